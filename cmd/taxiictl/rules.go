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
	verifyAction = action{"verify", "", "check the ledger's hash chain and name the first broken entry", ledgerVerify}
	pullsAction  = action{"pulls", "[--publisher MEMBER] [--partnership SLUG] [--after SEQ] [--limit N]",
		"list recorded pulls: all, or those of one publisher's objects", ledgerPulls}
)

// runAudit is the audit command: the operator audit trail, or with verify or pulls the ledger.
func runAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "verify":
			return single("audit verify", verifyAction)(args[1:], stdin, stdout, stderr)
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
	if _, err := inv.parse(0, 0); err != nil {
		return err
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
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s/%s\t%s\t%s\n", e.Seq, when(e.At), e.Member, orDash(e.TokenID),
					e.Partnership, e.Collection, e.Endpoint, orDash(strings.Join(ids, " ")))
			}
		})
		if page.More {
			fmt.Fprintf(w, "more: taxiictl audit pulls --after %d\n", page.Next)
		}
	})
}
