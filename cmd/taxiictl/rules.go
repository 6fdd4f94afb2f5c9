package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"taxiihub/internal/admin"
)

// The sharing rules (policies and memberships) and the ledger, through the admin API.

var policyGroup = group{name: "policy", actions: []action{
	{"show", "PARTNERSHIP", "show the rules of a partnership, its collections and its members", policyShow},
	{"set", "PARTNERSHIP [--personal-data allow|reject|strip] [--jurisdiction CODE]... [--no-onward-sharing]",
		"replace a partnership's rules; flags left out mean no such rule", policySet},
	{"collection", "PARTNERSHIP COLLECTION [--type TYPE]... [--deny-property NAME]... [--tlp-max LEVEL]",
		"replace a collection's rules; flags left out mean no such rule", policyCollection},
}}

var membershipGroup = group{name: "membership", actions: []action{
	{"add", "MEMBER PARTNERSHIP --role publisher|reader|both [--clearance LEVEL]",
		"set a member's role and TLP clearance in a partnership; replaces its membership there", membershipAdd},
	{"list", "PARTNERSHIP", "list a partnership's memberships", membershipList},
	{"remove", "MEMBER PARTNERSHIP", "remove a membership; the member's grants then act in both roles with no TLP limit", membershipRemove},
}}

var (
	verifyAction = action{"verify", "[--deep] [--ledger-at SEQ:HASH] [--audit-at SEQ:HASH]",
		"check the ledger's hash chain and name the first broken entry; --deep also checks every stored object, " +
			"origin and withdrawal against the ledger, the audit trail's chain, and heads kept outside the hub", ledgerVerify}
	headAction = action{"head", "", "print where the ledger and the audit trail end, as checkpoints to keep outside the hub " +
		"and pass back to audit verify --deep", chainHeads}
	pullsAction = action{"pulls", "[--publisher MEMBER] [--partnership SLUG] [--after SEQ] [--limit N]",
		"list recorded pulls: all, or those of one publisher's objects", ledgerPulls}
)

// runAudit is the audit command: the operator audit trail, or with verify or pulls the ledger.
func runAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "verify":
			return single("audit verify", verifyAction)(args[1:], stdin, stdout, stderr)
		case "head":
			return single("audit head", headAction)(args[1:], stdin, stdout, stderr)
		case "pulls":
			return single("audit pulls", pullsAction)(args[1:], stdin, stdout, stderr)
		}
	}
	return single("audit", auditAction)(args, stdin, stdout, stderr)
}

func policyShow(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	var d admin.PartnershipDetail
	if err := inv.call(http.MethodGet, "/admin/partnerships/"+seg(args[0])+"/", nil, &d); err != nil {
		return err
	}
	return inv.output(d, func(w io.Writer) {
		p := d.Policy
		fmt.Fprintf(w, "partnership %s\n", d.Slug)
		fmt.Fprintf(w, "  personal data      %s\n", p.PersonalData)
		fmt.Fprintf(w, "  jurisdictions      %s\n", orDash(strings.Join(p.Jurisdictions, " ")))
		fmt.Fprintf(w, "  no onward sharing  %s\n", yesNo(p.NoOnwardSharing))
		table(w, "\nCOLLECTION\tALLOWED TYPES\tDENIED PROPERTIES\tTLP MAX", func(tw io.Writer) {
			for _, c := range d.Collections {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", orDash(c.Alias), orDash(strings.Join(c.Policy.AllowedTypes, " ")),
					orDash(strings.Join(c.Policy.DeniedProperties, " ")), orDash(c.Policy.TLPMax))
			}
		})
		table(w, "\nMEMBER\tROLE\tCLEARANCE", func(tw io.Writer) {
			for _, m := range d.Memberships {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Member, m.Role, orDash(m.Clearance))
			}
		})
	})
}

func policySet(inv *invocation) error {
	personal := inv.fs.String("personal-data", "allow", "what to do with personal data: allow, reject or strip")
	var jurisdictions repeated
	inv.fs.Var(&jurisdictions, "jurisdiction", "a jurisdiction members may come from (ISO 3166-1 alpha-2, or EU); repeat for more")
	noOnward := inv.fs.Bool("no-onward-sharing", false, "forbid posting what was received here into another partnership")
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	body := admin.PartnershipPolicy{PersonalData: *personal, Jurisdictions: jurisdictions, NoOnwardSharing: *noOnward}
	var p admin.Partnership
	if err := inv.call(http.MethodPut, "/admin/partnerships/"+seg(args[0])+"/policy/", body, &p); err != nil {
		return err
	}
	return inv.output(p, func(w io.Writer) {
		fmt.Fprintf(w, "partnership %s: personal data %s; jurisdictions %s; no onward sharing %s\n", p.Slug,
			p.Policy.PersonalData, orDash(strings.Join(p.Policy.Jurisdictions, " ")), yesNo(p.Policy.NoOnwardSharing))
	})
}

func policyCollection(inv *invocation) error {
	var types, denied repeated
	inv.fs.Var(&types, "type", "a STIX object type the collection accepts; repeat for more (none: any type)")
	inv.fs.Var(&denied, "deny-property", "a property name the collection refuses wherever it appears; repeat for more")
	tlpMax := inv.fs.String("tlp-max", "", "the highest TLP level accepted: clear, green, amber, amber+strict or red")
	args, err := inv.parse(2, 2)
	if err != nil {
		return err
	}
	body := admin.CollectionPolicy{AllowedTypes: types, DeniedProperties: denied, TLPMax: *tlpMax}
	var c admin.Collection
	path := "/admin/partnerships/" + seg(args[0]) + "/collections/" + seg(args[1]) + "/policy/"
	if err := inv.call(http.MethodPut, path, body, &c); err != nil {
		return err
	}
	return inv.output(c, func(w io.Writer) {
		fmt.Fprintf(w, "collection %s/%s: types %s; denied properties %s; TLP max %s\n", c.Partnership, orDash(c.Alias),
			orDash(strings.Join(c.Policy.AllowedTypes, " ")), orDash(strings.Join(c.Policy.DeniedProperties, " ")), orDash(c.Policy.TLPMax))
	})
}

func membershipAdd(inv *invocation) error {
	role := inv.fs.String("role", "", "publisher, reader or both (required)")
	clearance := inv.fs.String("clearance", "", "the highest TLP level the member may read (default: no limit)")
	args, err := inv.parse(2, 2)
	if err != nil {
		return err
	}
	if *role == "" {
		return usagef("--role is required")
	}
	var res admin.MembershipResult
	path := "/admin/partnerships/" + seg(args[1]) + "/memberships/" + seg(args[0]) + "/"
	if err := inv.call(http.MethodPut, path, map[string]string{"role": *role, "clearance": *clearance}, &res); err != nil {
		return err
	}
	return inv.output(res, func(w io.Writer) {
		m := res.Membership
		verb := "set"
		if !res.Changed {
			verb = "unchanged"
		}
		fmt.Fprintf(w, "membership of %s in %s %s: %s, clearance %s\n", m.Member, m.Partnership, verb, m.Role, orDash(m.Clearance))
	})
}

func membershipList(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	return listing(inv, "/admin/partnerships/"+seg(args[0])+"/memberships/", "memberships", "MEMBER\tROLE\tCLEARANCE",
		func(m admin.Membership) string {
			return strings.Join([]string{m.Member, m.Role, orDash(m.Clearance)}, "\t")
		})
}

func membershipRemove(inv *invocation) error {
	args, err := inv.parse(2, 2)
	if err != nil {
		return err
	}
	var c admin.Change
	if err := inv.call(http.MethodDelete, "/admin/partnerships/"+seg(args[1])+"/memberships/"+seg(args[0])+"/", nil, &c); err != nil {
		return err
	}
	return inv.printChange(c)
}

// errLedgerBroken makes audit verify exit 1 when the chain does not hold, after printing why.
type errLedgerBroken struct{ v admin.LedgerVerification }

func (e errLedgerBroken) Error() string {
	return fmt.Sprintf("the ledger is broken at entry %d: %s", e.v.BrokenAt, e.v.Problem)
}

func ledgerVerify(inv *invocation) error {
	deep := inv.fs.Bool("deep", false, "also check every stored object, origin and withdrawal against the ledger, and the audit trail's chain")
	ledgerAt := inv.fs.String("ledger-at", "", "a ledger checkpoint SEQ:HASH from audit head, which the ledger must still hold (implies --deep)")
	auditAt := inv.fs.String("audit-at", "", "an audit checkpoint SEQ:HASH from audit head, which the audit trail must still hold (implies --deep)")
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	if *deep || *ledgerAt != "" || *auditAt != "" {
		return deepVerify(inv, *ledgerAt, *auditAt)
	}
	var v admin.LedgerVerification
	if err := inv.call(http.MethodGet, "/admin/ledger/verify/", nil, &v); err != nil {
		return err
	}
	if err := inv.output(v, func(w io.Writer) {
		if v.OK {
			fmt.Fprintf(w, "ledger intact: %d entries, each committing to the one before\n", v.Entries)
		}
	}); err != nil {
		return err
	}
	if !v.OK {
		return errLedgerBroken{v}
	}
	return nil
}

// errDeepFailed makes audit verify --deep exit 1 when the hub does not verify, after printing why.
type errDeepFailed struct{ v admin.DeepVerification }

func (e errDeepFailed) Error() string {
	var parts []string
	if !e.v.Ledger.OK {
		parts = append(parts, fmt.Sprintf("the ledger is broken at entry %d", e.v.Ledger.BrokenAt))
	}
	if !e.v.Audit.OK {
		parts = append(parts, fmt.Sprintf("the audit trail is broken at entry %d", e.v.Audit.BrokenAt))
	}
	if e.v.ProblemCount > 0 {
		parts = append(parts, fmt.Sprintf("problems with what the hub stores: %d", e.v.ProblemCount))
	}
	return "deep verification failed: " + strings.Join(parts, "; ")
}

func deepVerify(inv *invocation, ledgerAt, auditAt string) error {
	q := url.Values{}
	if ledgerAt != "" {
		q.Set("ledger_at", ledgerAt)
	}
	if auditAt != "" {
		q.Set("audit_at", auditAt)
	}
	var v admin.DeepVerification
	if err := inv.call(http.MethodGet, "/admin/ledger/verify/deep/?"+q.Encode(), nil, &v); err != nil {
		return err
	}
	if err := inv.output(v, func(w io.Writer) { printDeep(w, v) }); err != nil {
		return err
	}
	if !v.OK {
		return errDeepFailed{v}
	}
	return nil
}

func printDeep(w io.Writer, v admin.DeepVerification) {
	chain := func(name string, c admin.LedgerVerification) {
		if c.OK {
			fmt.Fprintf(w, "%s intact: %d entries, each committing to the one before\n", name, c.Entries)
		} else {
			fmt.Fprintf(w, "%s BROKEN at entry %d: %s\n", name, c.BrokenAt, c.Problem)
		}
	}
	chain("ledger", v.Ledger)
	chain("audit trail", v.Audit)
	fmt.Fprintf(w, "checked against the ledger up to entry %d: stored versions %d, origins %d, withdrawals %d\n",
		v.LedgerHead, v.Versions, v.Origins, v.Withdrawals)
	findings := func(fs []admin.Finding, count int64) {
		for _, f := range fs {
			fmt.Fprintf(w, "  %s: %s: %s\n", f.Kind, findingSubject(f), f.Detail)
		}
		if more := count - int64(len(fs)); more > 0 {
			fmt.Fprintf(w, "  and %d more not listed\n", more)
		}
	}
	fmt.Fprintf(w, "problems: %d\n", v.ProblemCount)
	findings(v.Problems, v.ProblemCount)
	if v.UnrecordedCount > 0 {
		fmt.Fprintf(w, "unrecorded versions: %d (no ledger entry mentions them: loaded without a publication, or put in the database "+
			"by hand; not counted as problems, but treat them as such if the hub never loads data that way)\n", v.UnrecordedCount)
		findings(v.Unrecorded, v.UnrecordedCount)
	}
	if v.LegacyVersions > 0 || v.LegacyOrigins > 0 {
		fmt.Fprintf(w, "resting on ledger entries written before it recorded digests: versions %d, origins %d "+
			"(their presence is checked, their content is not)\n", v.LegacyVersions, v.LegacyOrigins)
	}
	if v.DerivedOrigins > 0 {
		fmt.Fprintf(w, "origins re-keyed from the first fingerprint scheme: %d (each backed by the publication of the origin it was derived from)\n",
			v.DerivedOrigins)
	}
	if len(v.DeletedCollections) > 0 {
		fmt.Fprintf(w, "collections deleted by an operator, which the ledger names: %s\n", strings.Join(v.DeletedCollections, " "))
	}
	if v.LedgerMoved {
		fmt.Fprintln(w, "note: the hub was written to while the check ran; run it again to confirm findings about recent writes")
	}
}

// findingSubject names what a finding is about: an object version or an origin, and where.
func findingSubject(f admin.Finding) string {
	where := f.Partnership
	if f.Collection != "" {
		where = orDash(f.Partnership) + "/" + f.Collection
	}
	switch {
	case f.Key != "":
		return fmt.Sprintf("origin %s in %s (%s)", f.Key, where, orDash(f.Member))
	case f.Version != nil:
		return fmt.Sprintf("%s version %s in %s", f.ObjectID, f.Version.UTC().Format("2006-01-02T15:04:05.000000Z"), where)
	default:
		return fmt.Sprintf("%s in %s (%s)", f.ObjectID, where, orDash(f.Member))
	}
}

// chainHeads prints the heads on one line, for a log system to keep: each is a checkpoint that
// audit verify --deep takes back.
func chainHeads(inv *invocation) error {
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	var h admin.Heads
	if err := inv.call(http.MethodGet, "/admin/ledger/heads/", nil, &h); err != nil {
		return err
	}
	return inv.output(h, func(w io.Writer) {
		fmt.Fprintf(w, "ledger %s audit %s\n", orDash(h.Ledger.Checkpoint), orDash(h.Audit.Checkpoint))
	})
}

func ledgerPulls(inv *invocation) error {
	publisher := inv.fs.String("publisher", "", "only pulls of objects this member published first, showing only those objects")
	partnership := inv.fs.String("partnership", "", "only pulls from this partnership")
	after := inv.fs.Int64("after", 0, "only ledger entries after this sequence number")
	limit := inv.fs.Int("limit", 100, "at most this many pulls (up to 1000)")
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	q := url.Values{"after": {strconv.FormatInt(*after, 10)}, "limit": {strconv.Itoa(*limit)}}
	if *publisher != "" {
		q.Set("publisher", *publisher)
	}
	if *partnership != "" {
		q.Set("partnership", *partnership)
	}
	var page admin.PullPage
	if err := inv.call(http.MethodGet, "/admin/ledger/pulls/?"+q.Encode(), nil, &page); err != nil {
		return err
	}
	return inv.output(page, func(w io.Writer) {
		table(w, "SEQ\tTIME\tMEMBER\tTOKEN\tCOLLECTION\tREAD\tOBJECTS", func(tw io.Writer) {
			for _, e := range page.Entries {
				ids := make([]string, len(e.Items))
				for i, it := range e.Items {
					ids[i] = it.ID
					if it.Fingerprint != "" {
						ids[i] = "fingerprint:" + it.Fingerprint
					}
				}
				read := e.Endpoint
				if e.Kind == "attest" { // the admin API's kind of an attestation entry
					// Not a read: the member declared holding the content independently when it
					// posted it into another partnership.
					read = "attested-in:" + e.Endpoint
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s/%s\t%s\t%s\n", e.Seq, when(e.At), e.Member, orDash(e.TokenID),
					e.Partnership, e.Collection, read, orDash(strings.Join(ids, " ")))
			}
		})
		if page.More {
			fmt.Fprintf(w, "more: taxiictl audit pulls --after %d\n", page.Next)
		}
	})
}
