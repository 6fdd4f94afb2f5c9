package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"taxiihub/internal/admin"
)

// The sharing rules (policies and memberships) and the ledger, through the admin API.

var policyGroup = group{name: "policy", actions: []action{
	{"show", "PARTNERSHIP", "show the rules of a partnership, its collections and its members", policyShow},
	{"set", "PARTNERSHIP [--personal-data allow|reject|strip] [--jurisdiction CODE]... [--no-onward-sharing[=false]] [--reviewer MEMBER]... [--clear RULE]... [--confirm-weaken]",
		"change the partnership rules named, and only those; --clear removes one", policySet},
	{"collection", "PARTNERSHIP COLLECTION [--type TYPE]... [--deny-property NAME]... [--tlp-max LEVEL] [--unmarked clear|refuse] [--allow-property TYPE:PATH]... [--review none|own-member|partnership] [--review-timeout D] [--clear RULE]... [--confirm-weaken]",
		"change the collection rules named, and only those; --clear removes one", policyCollection},
}}

var membershipGroup = group{name: "membership", actions: []action{
	{"add", "MEMBER PARTNERSHIP [--role publisher|reader|both] [--clearance LEVEL] [--clear clearance] [--confirm-weaken]",
		"give a member a membership, or change the role or clearance named of the one it holds", membershipAdd},
	{"list", "PARTNERSHIP", "list a partnership's memberships", membershipList},
	{"remove", "MEMBER PARTNERSHIP [--confirm-weaken]", "remove a membership; the member's grants then act in both roles with no TLP limit", membershipRemove},
}}

var (
	verifyAction = action{"verify", "[--deep] [--ledger-at SEQ:HASH] [--audit-at SEQ:HASH]",
		"check the ledger's hash chain and name the first broken entry; --deep also checks every stored object, " +
			"origin and withdrawal against the ledger, the audit trail's chain, and heads kept outside the hub", ledgerVerify}
	headAction = action{"head", "", "print where the ledger and the audit trail end, as checkpoints to keep outside the hub " +
		"and pass back to audit verify --deep", chainHeads}
	pullsAction = action{"pulls", "[--publisher MEMBER] [--partnership SLUG] [--after SEQ] [--limit N] [--objects]",
		"list recorded pulls, one row each with how many objects it served: all, or those of one publisher's objects", ledgerPulls}
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
		fmt.Fprintf(w, "  reviewers          %s\n", orDash(strings.Join(p.Reviewers, " ")))
		table(w, "\nCOLLECTION\tALLOWED TYPES\tDENIED PROPERTIES\tTLP MAX", func(tw io.Writer) {
			for _, c := range d.Collections {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", orDash(c.Alias), orDash(strings.Join(c.Policy.AllowedTypes, " ")),
					orDash(strings.Join(c.Policy.DeniedProperties, " ")), orDash(c.Policy.TLPMax))
			}
		})
		table(w, "\nCOLLECTION\tUNMARKED\tREVIEW\tALLOWED PROPERTIES", func(tw io.Writer) {
			for _, c := range d.Collections {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", orDash(c.Alias), orDash(c.Policy.Unmarked), reviewOf(c.Policy),
					orDash(allowedProperties(c.Policy.AllowedProperties)))
			}
		})
		table(w, "\nMEMBER\tROLE\tCLEARANCE", func(tw io.Writer) {
			for _, m := range d.Memberships {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Member, m.Role, orDash(m.Clearance))
			}
		})
	})
}

// confirmWeakenFlag is the flag that confirms a change weakening the rules; the hub refuses such a
// change without it, naming each weakening.
func confirmWeakenFlag(inv *invocation) *bool {
	return inv.fs.Bool("confirm-weaken", false, "confirm a change that weakens the rules (the hub refuses it otherwise, naming each weakening)")
}

// rulePatch is a JSON merge patch of the rules a command names: a flag given sets its rule, a
// --clear removes one, and rules not named stay as they are on the hub.
type rulePatch map[string]any

// set puts a rule in the patch when its flag was given on the command line.
func (p rulePatch) set(inv *invocation, flagName, rule string, value any) {
	given := false
	inv.fs.Visit(func(f *flag.Flag) { given = given || f.Name == flagName })
	if given {
		p[rule] = value
	}
}

// clear adds the rules to remove, which must be among known and not also set.
func (p rulePatch) clear(rules []string, known ...string) error {
	for _, r := range rules {
		rule := strings.ReplaceAll(r, "-", "_")
		if !slices.Contains(known, rule) {
			return usagef("--clear %s: there is no such rule here; rules are %s", r, strings.Join(known, ", "))
		}
		if _, set := p[rule]; set {
			return usagef("--clear %s: the rule is also set by a flag; do one or the other", r)
		}
		p[rule] = nil // null removes the rule in a merge patch
	}
	return nil
}

// withConfirmation adds the confirmation of a weakening to an admin API path.
func withConfirmation(path string, confirm bool) string {
	if confirm {
		return path + "?confirm_weaken=true"
	}
	return path
}

func policySet(inv *invocation) error {
	personal := inv.fs.String("personal-data", "", "what to do with personal data: allow, reject or strip")
	var jurisdictions, reviewers, clear repeated
	inv.fs.Var(&jurisdictions, "jurisdiction", "a jurisdiction members may come from (ISO 3166-1 alpha-2, or EU); repeat for more: the list given replaces the list held")
	inv.fs.Var(&reviewers, "reviewer", "a member whose reviewer tokens release what is posted to collections under partnership review (a moderator); repeat for more: the list given replaces the list held")
	noOnward := inv.fs.Bool("no-onward-sharing", false, "forbid posting what was received here into another partnership (=false allows it)")
	inv.fs.Var(&clear, "clear", "remove a rule: personal_data, jurisdictions, no_onward_sharing or reviewers; repeat for more")
	confirm := confirmWeakenFlag(inv)
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	patch := rulePatch{}
	patch.set(inv, "personal-data", "personal_data", *personal)
	patch.set(inv, "jurisdiction", "jurisdictions", []string(jurisdictions))
	patch.set(inv, "no-onward-sharing", "no_onward_sharing", *noOnward)
	patch.set(inv, "reviewer", "reviewers", []string(reviewers))
	if err := patch.clear(clear, "personal_data", "jurisdictions", "no_onward_sharing", "reviewers"); err != nil {
		return err
	}
	if len(patch) == 0 {
		return usagef("name a rule to change (--personal-data, --jurisdiction, --no-onward-sharing, --reviewer) or to remove (--clear RULE)")
	}
	var p admin.Partnership
	if err := inv.call(http.MethodPatch, withConfirmation("/admin/partnerships/"+seg(args[0])+"/policy/", *confirm), patch, &p); err != nil {
		return err
	}
	return inv.output(p, func(w io.Writer) {
		fmt.Fprintf(w, "partnership %s: personal data %s; jurisdictions %s; no onward sharing %s; reviewers %s\n", p.Slug,
			p.Policy.PersonalData, orDash(strings.Join(p.Policy.Jurisdictions, " ")), yesNo(p.Policy.NoOnwardSharing),
			orDash(strings.Join(p.Policy.Reviewers, " ")))
	})
}

func policyCollection(inv *invocation) error {
	var types, denied, clear repeated
	inv.fs.Var(&types, "type", "a STIX object type the collection accepts; repeat for more: the list given replaces the list held")
	inv.fs.Var(&denied, "deny-property", "a property name the collection refuses wherever it appears; repeat for more: the list given replaces the list held")
	tlpMax := inv.fs.String("tlp-max", "", "the highest TLP level accepted: clear, green, amber, amber+strict or red")
	unmarked := inv.fs.String("unmarked", "", "what to do with objects without a TLP marking: clear (treat as TLP:CLEAR, the default) or refuse")
	review := inv.fs.String("review", "", "who releases posted objects before readers see them: none (stored at once, the default), own-member or partnership")
	reviewTimeout := inv.fs.String("review-timeout", "", "how long a posted object waits for its review: days (7d, the default) or a duration (36h)")
	retention := inv.fs.String("retention", "", "how long each object is kept after it is added, then purged: days (180d) or a duration (36h); none: kept for good")
	var allowProps repeated
	inv.fs.Var(&allowProps, "allow-property", "TYPE:PATH, a property objects of TYPE may carry (a name, or a dotted path into nested objects); repeat for more (none: any property); the list given replaces the list held")
	inv.fs.Var(&clear, "clear", "remove a rule: allowed_types, denied_properties, tlp_max, unmarked, allowed_properties, review, review_timeout or retention; repeat for more")
	confirm := confirmWeakenFlag(inv)
	args, err := inv.parse(2, 2)
	if err != nil {
		return err
	}
	var allowed map[string][]string
	for _, tp := range allowProps {
		typ, path, ok := strings.Cut(tp, ":")
		if !ok || typ == "" {
			return usagef("--allow-property %q: write TYPE:PATH, such as identity:name", tp)
		}
		if allowed == nil {
			allowed = map[string][]string{}
		}
		allowed[typ] = append(allowed[typ], path)
	}
	patch := rulePatch{}
	patch.set(inv, "type", "allowed_types", []string(types))
	patch.set(inv, "deny-property", "denied_properties", []string(denied))
	patch.set(inv, "tlp-max", "tlp_max", *tlpMax)
	patch.set(inv, "unmarked", "unmarked", *unmarked)
	patch.set(inv, "allow-property", "allowed_properties", allowed)
	patch.set(inv, "review", "review", *review)
	patch.set(inv, "review-timeout", "review_timeout", *reviewTimeout)
	patch.set(inv, "retention", "retention", *retention)
	if err := patch.clear(clear, "allowed_types", "denied_properties", "tlp_max", "unmarked", "allowed_properties", "review", "review_timeout", "retention"); err != nil {
		return err
	}
	if len(patch) == 0 {
		return usagef("name a rule to change (--type, --deny-property, --tlp-max, --unmarked, --allow-property, --review, --review-timeout, --retention) or to remove (--clear RULE)")
	}
	var c admin.Collection
	path := "/admin/partnerships/" + seg(args[0]) + "/collections/" + seg(args[1]) + "/policy/"
	if err := inv.call(http.MethodPatch, withConfirmation(path, *confirm), patch, &c); err != nil {
		return err
	}
	return inv.output(c, func(w io.Writer) {
		fmt.Fprintf(w, "collection %s/%s: types %s; denied properties %s; TLP max %s; unmarked %s; allowed properties %s; review %s; retention %s\n", c.Partnership, orDash(c.Alias),
			orDash(strings.Join(c.Policy.AllowedTypes, " ")), orDash(strings.Join(c.Policy.DeniedProperties, " ")), orDash(c.Policy.TLPMax),
			orDash(c.Policy.Unmarked), orDash(allowedProperties(c.Policy.AllowedProperties)), reviewOf(c.Policy),
			orDash(c.Policy.Retention))
	})
}

func membershipAdd(inv *invocation) error {
	role := inv.fs.String("role", "", "publisher, reader or both (needed for a new membership)")
	clearance := inv.fs.String("clearance", "", "the highest TLP level the member may read")
	var clear repeated
	inv.fs.Var(&clear, "clear", "remove a limit: clearance")
	confirm := confirmWeakenFlag(inv)
	args, err := inv.parse(2, 2)
	if err != nil {
		return err
	}
	patch := rulePatch{}
	patch.set(inv, "role", "role", *role)
	patch.set(inv, "clearance", "clearance", *clearance)
	if err := patch.clear(clear, "clearance"); err != nil {
		return err
	}
	if len(patch) == 0 {
		return usagef("name what to set: --role, --clearance, or --clear clearance")
	}
	var res admin.MembershipResult
	path := "/admin/partnerships/" + seg(args[1]) + "/memberships/" + seg(args[0]) + "/"
	if err := inv.call(http.MethodPatch, withConfirmation(path, *confirm), patch, &res); err != nil {
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
	confirm := confirmWeakenFlag(inv)
	args, err := inv.parse(2, 2)
	if err != nil {
		return err
	}
	var c admin.Change
	path := withConfirmation("/admin/partnerships/"+seg(args[1])+"/memberships/"+seg(args[0])+"/", *confirm)
	if err := inv.call(http.MethodDelete, path, nil, &c); err != nil {
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
	objects := inv.fs.Bool("objects", false, "also list each pull's object ids, one a line under its row")
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
		// One row per pull, collections by the alias operators know them by, and a count rather
		// than the ids, of which a page holds up to a thousand; --objects lists them.
		table(w, "SEQ\tTIME\tMEMBER\tTOKEN\tCOLLECTION\tREAD\tOBJECTS", func(tw io.Writer) {
			for _, e := range page.Entries {
				read := e.Endpoint
				if e.Kind == "attest" { // the admin API's kind of an attestation entry
					// Not a read: the member declared holding the content independently when it
					// posted it into another partnership.
					read = "attested-in:" + e.Endpoint
				}
				count := len(e.Items)
				if e.Pulled != nil {
					// A compact pull counts what it served whether or not its ids are still kept.
					count = e.Pulled.Count
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s/%s\t%s\t%d\n", e.Seq, when(e.At), e.Member, orDash(e.TokenID),
					e.Partnership, cmp.Or(e.CollectionAlias, e.Collection), read, count)
				if *objects && e.Pulled != nil && len(e.Items) == 0 {
					fmt.Fprintf(tw, "\t\t\t\t\t\t  (ids no longer kept: past --pull-detail-retention; digest %s)\n", e.Pulled.SHA256)
				}
				if *objects {
					for _, it := range e.Items {
						id := it.ID
						if it.Fingerprint != "" {
							id = "fingerprint:" + it.Fingerprint
						}
						fmt.Fprintf(tw, "\t\t\t\t\t\t  %s\n", id)
					}
				}
			}
		})
		if page.More {
			fmt.Fprintf(w, "more: taxiictl audit pulls --after %d\n", page.Next)
		}
	})
}

// allowedProperties writes an allow-list as the --allow-property flags that set it, TYPE:PATH.
func allowedProperties(props map[string][]string) string {
	var out []string
	for _, typ := range slices.Sorted(maps.Keys(props)) {
		for _, path := range props[typ] {
			out = append(out, typ+":"+path)
		}
	}
	return strings.Join(out, " ")
}

// reviewOf says who releases a collection's objects, and within how long, in a few words.
func reviewOf(p admin.CollectionPolicy) string {
	if p.Review == "" || p.Review == admin.ReviewNone {
		return admin.ReviewNone
	}
	return p.Review + " within " + p.ReviewTimeout
}
