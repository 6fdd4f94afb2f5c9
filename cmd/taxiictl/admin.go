package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"taxiihub/internal/admin"
)

// The hub's admin API answers with the operator service's types; taxiictl decodes them as they are.

var partnershipGroup = group{name: "partnership", actions: []action{
	{"create", "SLUG --title TITLE [--description TEXT]", "add a partnership (a TAXII API root)", partnershipCreate},
	{"list", "", "list the partnerships", partnershipList},
	{"show", "SLUG", "show a partnership with its collections and grants", partnershipShow},
	{"delete", "SLUG", "delete a partnership that has no collections left", partnershipDelete},
}}

var collectionGroup = group{name: "collection", actions: []action{
	{"create", "PARTNERSHIP --title TITLE [--alias ALIAS] [--description TEXT] [--media-type TYPE]...",
		"add a collection; the hub gives it a UUIDv4 id", collectionCreate},
	{"list", "PARTNERSHIP", "list a partnership's collections", collectionList},
	{"url", "PARTNERSHIP COLLECTION [--base URL]",
		"print the collection's TAXII URL by id, the one to give TAXII clients (taxii2-client refuses alias URLs)", collectionURL},
	{"delete", "PARTNERSHIP COLLECTION", "delete a collection (id or alias) with all its objects and grants", collectionDelete},
}}

var memberGroup = group{name: "member", actions: []action{
	{"add", "ID --name NAME --jurisdiction CODE [--contact TEXT]",
		"add a partner organisation (jurisdiction: ISO 3166-1 alpha-2, or EU)", memberAdd},
	{"list", "", "list the members", memberList},
	{"remove", "ID", "remove a member, its grants, and revoke its tokens", memberRemove},
}}

var grantGroup = group{name: "grant", actions: []action{
	{"add", "MEMBER PARTNERSHIP COLLECTION [--read] [--write]",
		"let a member read and/or write a collection (id or alias); replaces its grant there", grantAdd},
	{"remove", "MEMBER PARTNERSHIP COLLECTION", "take a member's access to a collection away", grantRemove},
}}

var objectGroup = group{name: "object", actions: []action{
	{"delete", "PARTNERSHIP COLLECTION OBJECT-ID",
		"remove every version of an object, a withdrawal's tombstone included (recorded in the ledger and audit trail)", objectDelete},
}}

var ownerGroup = group{name: "owner", actions: []action{
	{"transfer", "PARTNERSHIP FROM TO [--object ID]",
		"pass the ownership of FROM's objects in a partnership (or of one object) to member TO", ownerTransfer},
}}

var tokenGroup = group{name: "token", actions: []action{
	{"issue", "MEMBER [--role reviewer] | --operator [NAME]  [--ttl 90d] [--note TEXT] [--out FILE]",
		"issue a partner token for a member, or an operator token; prints the token", tokenIssue},
	{"list", "[--member ID] [--operator] [--expiring 14d]", "list issued tokens and whether they are active; --expiring: only active ones expiring within that time, soonest first", tokenList},
	{"revoke", "TOKEN-ID", "revoke a token; every hub node refuses it from its next request", tokenRevoke},
}}

var keyGroup = group{name: "key", actions: []action{
	{"list", "", "list the verification keys of every hub node", keyList},
	{"rotate", "", "give the hub node that answers a new signing key; old keys keep verifying", keyRotate},
	{"retire", "KID", "stop accepting tokens signed with a key", keyRetire},
}}

var applyAction = action{"", "-f FILE [--dry-run]",
	"make the hub match a YAML spec of partnerships, collections, members and grants", applySpec}

var auditAction = action{"", "[--since TIME] [--limit N] | --after SEQ [--limit N]",
	"list recorded operator actions, newest first; --after pages the trail oldest first from a sequence number", auditList}

// call connects and makes one call to the admin API.
func (inv *invocation) call(method, path string, body, out any) error {
	c, err := inv.connect()
	if err != nil {
		return err
	}
	return c.call(method, path, body, out)
}

func table(w io.Writer, header string, rows func(tw io.Writer)) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	rows(tw)
	tw.Flush()
}

// listing prints a list the admin API answers as {key: [...]}: a table with one row per item, or the
// hub's answer itself with --json.
func listing[T any](inv *invocation, path, key, header string, row func(T) string) error {
	var res map[string][]T
	if err := inv.call(http.MethodGet, path, nil, &res); err != nil {
		return err
	}
	return inv.output(res, func(w io.Writer) {
		table(w, header, func(tw io.Writer) {
			for _, item := range res[key] {
				fmt.Fprintln(tw, row(item))
			}
		})
	})
}

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

func whenPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return when(*t)
}

func orDash(s string) string { return cmp.Or(s, "-") }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func seg(s string) string { return url.PathEscape(s) }

func partnershipCreate(inv *invocation) error {
	title := inv.fs.String("title", "", "the partnership's title (required)")
	description := inv.fs.String("description", "", "what the partnership shares, and on which terms")
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	if err := inv.require("title"); err != nil {
		return err
	}
	var p admin.Partnership
	if err := inv.call(http.MethodPost, "/admin/partnerships/", admin.Partnership{Slug: args[0], Title: *title, Description: *description}, &p); err != nil {
		return err
	}
	return inv.output(p, func(w io.Writer) { fmt.Fprintf(w, "created partnership %s: /%s/\n", p.Slug, p.Slug) })
}

func partnershipList(inv *invocation) error {
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	return listing(inv, "/admin/partnerships/", "partnerships", "SLUG\tTITLE",
		func(p admin.Partnership) string { return p.Slug + "\t" + p.Title })
}

func partnershipShow(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	var d admin.PartnershipDetail
	if err := inv.call(http.MethodGet, "/admin/partnerships/"+seg(args[0])+"/", nil, &d); err != nil {
		return err
	}
	return inv.output(d, func(w io.Writer) { printPartnership(w, d) })
}

// printPartnership prints everything the hub holds about a partnership: its rules, its
// collections with their rules and the path TAXII clients are given, the members collection, the
// memberships and the grants.
func printPartnership(w io.Writer, d admin.PartnershipDetail) {
	fmt.Fprintf(w, "Partnership %s: %s\n", d.Slug, d.Title)
	if d.Description != "" {
		fmt.Fprintf(w, "%s\n", d.Description)
	}
	p := d.Policy
	fmt.Fprintf(w, "\nRules:\n")
	fmt.Fprintf(w, "  personal data      %s\n", cmp.Or(p.PersonalData, "allow"))
	fmt.Fprintf(w, "  jurisdictions      %s\n", cmp.Or(strings.Join(p.Jurisdictions, " "), "any"))
	fmt.Fprintf(w, "  no onward sharing  %s\n", yesNo(p.NoOnwardSharing))

	fmt.Fprintf(w, "\nCollections (%d):\n", len(d.Collections))
	table(w, "ALIAS\tTITLE\tALLOWED TYPES\tDENIED PROPERTIES\tTLP MAX\tTAXII PATH", func(tw io.Writer) {
		for _, c := range d.Collections {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", orDash(c.Alias), c.Title,
				cmp.Or(strings.Join(c.Policy.AllowedTypes, " "), "any"), orDash(strings.Join(c.Policy.DeniedProperties, " ")),
				cmp.Or(c.Policy.TLPMax, "none"), collectionPath(d.Slug, c.ID))
		}
	})
	if mc := d.MembersCollection; mc != nil {
		fmt.Fprintf(w, "\nMembers collection: %s (alias %s), the members' identities; the hub keeps it, "+
			"every member holding a grant reads it\n", collectionPath(d.Slug, mc.ID), orDash(mc.Alias))
	}

	fmt.Fprintf(w, "\nMemberships (%d):\n", len(d.Memberships))
	table(w, "MEMBER\tROLE\tCLEARANCE", func(tw io.Writer) {
		for _, m := range d.Memberships {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Member, m.Role, cmp.Or(m.Clearance, "any"))
		}
	})
	fmt.Fprintf(w, "\nGrants (%d):\n", len(d.Grants))
	table(w, "MEMBER\tCOLLECTION\tREAD\tWRITE", func(tw io.Writer) {
		for _, g := range d.Grants {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Member, cmp.Or(g.CollectionAlias, g.Collection), yesNo(g.Read), yesNo(g.Write))
		}
	})
}

// collectionPath is a collection's URL path by id: the one to give TAXII clients, which check
// that a collection's URL holds its id.
func collectionPath(slug, id string) string { return "/" + slug + "/collections/" + id + "/" }

func pastTense(action string) string {
	switch action {
	case "issue", "create", "update", "delete", "revoke", "rotate", "retire":
		return action + "d"
	default:
		return action
	}
}

// printChange prints what a deletion or revocation did.
func (inv *invocation) printChange(c admin.Change) error {
	return inv.output(c, func(w io.Writer) {
		fmt.Fprintf(w, "%s %s %s", pastTense(c.Action), c.Kind, c.Target)
		if c.Detail != "" {
			fmt.Fprintf(w, " (%s)", c.Detail)
		}
		fmt.Fprintln(w)
	})
}

func partnershipDelete(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	var c admin.Change
	if err := inv.call(http.MethodDelete, "/admin/partnerships/"+seg(args[0])+"/", nil, &c); err != nil {
		return err
	}
	return inv.printChange(c)
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func collectionCreate(inv *invocation) error {
	title := inv.fs.String("title", "", "the collection's title (required)")
	alias := inv.fs.String("alias", "", "a name for the collection, unique in the partnership, usable in place of its id")
	description := inv.fs.String("description", "", "what the collection holds")
	var media repeated
	inv.fs.Var(&media, "media-type", "a media type the collection holds (repeatable; default application/stix+json;version=2.1)")
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	if err := inv.require("title"); err != nil {
		return err
	}
	var c admin.Collection
	body := admin.Collection{Alias: *alias, Title: *title, Description: *description, MediaTypes: media}
	if err := inv.call(http.MethodPost, "/admin/partnerships/"+seg(args[0])+"/collections/", body, &c); err != nil {
		return err
	}
	return inv.output(c, func(w io.Writer) {
		fmt.Fprintf(w, "created collection %s in %s: /%s/collections/%s/\n", cmp.Or(c.Alias, c.ID), c.Partnership, c.Partnership, c.ID)
	})
}

func collectionList(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	return listing(inv, "/admin/partnerships/"+seg(args[0])+"/collections/", "collections", "ID\tALIAS\tTITLE\tMEDIA TYPES",
		func(c admin.Collection) string {
			return strings.Join([]string{c.ID, orDash(c.Alias), c.Title, orDash(strings.Join(c.MediaTypes, ", "))}, "\t")
		})
}

func collectionDelete(inv *invocation) error {
	args, err := inv.parse(2, 2)
	if err != nil {
		return err
	}
	var c admin.Change
	if err := inv.call(http.MethodDelete, "/admin/partnerships/"+seg(args[0])+"/collections/"+seg(args[1])+"/", nil, &c); err != nil {
		return err
	}
	return inv.printChange(c)
}

func memberAdd(inv *invocation) error {
	name := inv.fs.String("name", "", "the organisation's name (required)")
	jurisdiction := inv.fs.String("jurisdiction", "", "where it is established: ISO 3166-1 alpha-2 code, or EU (required)")
	contact := inv.fs.String("contact", "", "how to reach it")
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	if err := inv.require("name", "jurisdiction"); err != nil {
		return err
	}
	var m admin.Member
	body := admin.Member{ID: args[0], Name: *name, Jurisdiction: *jurisdiction, Contact: *contact}
	if err := inv.call(http.MethodPost, "/admin/members/", body, &m); err != nil {
		return err
	}
	return inv.output(m, func(w io.Writer) { fmt.Fprintf(w, "added member %s (%s, %s)\n", m.ID, m.Name, m.Jurisdiction) })
}

func memberList(inv *invocation) error {
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	return listing(inv, "/admin/members/", "members", "ID\tJURISDICTION\tNAME\tCONTACT",
		func(m admin.Member) string {
			return strings.Join([]string{m.ID, m.Jurisdiction, m.Name, orDash(m.Contact)}, "\t")
		})
}

func memberRemove(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	var c admin.Change
	if err := inv.call(http.MethodDelete, "/admin/members/"+seg(args[0])+"/", nil, &c); err != nil {
		return err
	}
	return inv.printChange(c)
}

func grantPath(args []string) string {
	return "/admin/partnerships/" + seg(args[1]) + "/collections/" + seg(args[2]) + "/grants/" + seg(args[0]) + "/"
}

func grantAdd(inv *invocation) error {
	read := inv.fs.Bool("read", false, "the member may read the collection")
	write := inv.fs.Bool("write", false, "the member may add objects to the collection")
	args, err := inv.parse(3, 3)
	if err != nil {
		return err
	}
	if !*read && !*write {
		return usagef("give --read, --write or both")
	}
	var res admin.GrantResult
	body := map[string]bool{"read": *read, "write": *write}
	if err := inv.call(http.MethodPut, grantPath(args), body, &res); err != nil {
		return err
	}
	return inv.output(res, func(w io.Writer) {
		g := res.Grant
		where := g.Partnership + "/" + cmp.Or(g.CollectionAlias, g.Collection)
		rights := strings.Join(rightsWords(g.Read, g.Write), " and ")
		if res.Changed {
			fmt.Fprintf(w, "%s may now %s %s\n", g.Member, rights, where)
		} else {
			fmt.Fprintf(w, "%s could already %s %s; nothing changed\n", g.Member, rights, where)
		}
	})
}

func rightsWords(read, write bool) []string {
	var out []string
	if read {
		out = append(out, "read")
	}
	if write {
		out = append(out, "write")
	}
	return out
}

func grantRemove(inv *invocation) error {
	args, err := inv.parse(3, 3)
	if err != nil {
		return err
	}
	var c admin.Change
	if err := inv.call(http.MethodDelete, grantPath(args), nil, &c); err != nil {
		return err
	}
	return inv.printChange(c)
}

func objectDelete(inv *invocation) error {
	args, err := inv.parse(3, 3)
	if err != nil {
		return err
	}
	var c admin.Change
	path := "/admin/partnerships/" + seg(args[0]) + "/collections/" + seg(args[1]) + "/objects/" + seg(args[2]) + "/"
	if err := inv.call(http.MethodDelete, path, nil, &c); err != nil {
		return err
	}
	return inv.printChange(c)
}

func ownerTransfer(inv *invocation) error {
	object := inv.fs.String("object", "", "move the ownership of this object id only")
	args, err := inv.parse(3, 3)
	if err != nil {
		return err
	}
	var res admin.OwnershipResult
	body := admin.OwnershipTransfer{From: args[1], To: args[2], Object: *object}
	if err := inv.call(http.MethodPost, "/admin/partnerships/"+seg(args[0])+"/ownership/", body, &res); err != nil {
		return err
	}
	return inv.output(res, func(w io.Writer) {
		fmt.Fprintf(w, "%d object ids of %s in %s now belong to %s\n", res.Moved, args[1], args[0], args[2])
	})
}

func tokenIssue(inv *invocation) error {
	operator := inv.fs.Bool("operator", false, "issue an operator token (for the admin API) instead of a partner token")
	ttl := inv.fs.String("ttl", "", "lifetime, such as 30d or 12h (default: the hub's, 90d unless configured)")
	note := inv.fs.String("note", "", "a note kept with the token's record, such as who it was given to")
	role := inv.fs.String("role", "", "reviewer: a partner token that may also release or reject what the member's colleagues post to collections under review")
	out := inv.fs.String("out", "", "write the token to this new file (mode 0600) instead of standard output")
	args, err := inv.parse(0, 1)
	if err != nil {
		return err
	}
	if err := checkTTL(*ttl); err != nil {
		return err
	}
	req := admin.TokenRequest{Kind: "partner", TTL: *ttl, Note: *note, Role: *role}
	switch {
	case *operator:
		req.Kind, req.Subject = "operator", "operator"
		if len(args) == 1 {
			req.Subject = args[0]
		}
	case len(args) == 0:
		return usagef("name the member, or give --operator")
	default:
		req.Subject = args[0]
	}
	// Claim the output file first, so that no token is issued that cannot be handed over.
	var f *os.File
	if *out != "" {
		f, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return &inputError{fmt.Errorf("create the token file: %w", err)}
		}
	}
	var issued admin.IssuedToken
	err = inv.call(http.MethodPost, "/admin/tokens/", req, &issued)
	if f != nil {
		if err == nil {
			_, err = fmt.Fprintln(f, issued.JWT)
			err = errors.Join(err, f.Sync())
		}
		if err = errors.Join(err, f.Close()); err != nil {
			_ = os.Remove(*out)
			return err
		}
	}
	if err != nil {
		return err
	}
	t := issued.Token
	summary := fmt.Sprintf("issued %s token %s for %s, expires %s", t.Kind, t.ID, t.Subject, when(t.ExpiresAt))
	return inv.output(issued, func(w io.Writer) {
		if *out != "" {
			fmt.Fprintf(w, "%s, written to %s\n", summary, *out)
			return
		}
		// Standard output carries the token alone, so that it can be redirected to a file.
		fmt.Fprintln(w, issued.JWT)
		fmt.Fprintln(inv.stderr, summary)
	})
}

func tokenList(inv *invocation) error {
	member := inv.fs.String("member", "", "only the tokens of this member")
	operator := inv.fs.Bool("operator", false, "only operator tokens")
	expiring := inv.fs.String("expiring", "", "only active tokens that expire within this time, such as 14d or 48h, soonest first")
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	var within time.Duration
	if *expiring != "" {
		d, err := admin.ParseTTL(*expiring)
		if err != nil || d <= 0 {
			return usagef("--expiring %q: want a time such as 14d or 48h", *expiring)
		}
		within = d
	}
	q := url.Values{}
	if *member != "" {
		q.Set("subject", *member)
		q.Set("kind", "partner")
	}
	if *operator {
		q.Set("kind", "operator")
	}
	var res struct {
		Tokens []admin.Token `json:"tokens"`
	}
	path := "/admin/tokens/"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	if err := inv.call(http.MethodGet, path, nil, &res); err != nil {
		return err
	}
	if within > 0 {
		// Read against the hub's own verdict on each token (active), and this machine's clock
		// for the window, which is all a reminder needs.
		horizon := time.Now().Add(within)
		res.Tokens = slices.DeleteFunc(res.Tokens, func(t admin.Token) bool {
			return t.Status != admin.TokenActive || !t.ExpiresAt.Before(horizon)
		})
		slices.SortFunc(res.Tokens, func(a, b admin.Token) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	}
	return inv.output(res, func(w io.Writer) {
		if within > 0 && len(res.Tokens) == 0 {
			fmt.Fprintf(w, "no active token expires within %s\n", *expiring)
			return
		}
		table(w, "ID\tKIND\tSUBJECT\tSTATUS\tISSUED\tEXPIRES\tNOTE", func(tw io.Writer) {
			for _, t := range res.Tokens {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Kind, t.Subject, t.Status, when(t.IssuedAt), when(t.ExpiresAt), orDash(t.Note))
			}
		})
	})
}

func tokenRevoke(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	var t admin.Token
	if err := inv.call(http.MethodPost, "/admin/tokens/"+seg(args[0])+"/revoke/", nil, &t); err != nil {
		return err
	}
	return inv.output(t, func(w io.Writer) {
		fmt.Fprintf(w, "revoked %s token %s for %s (at %s)\n", t.Kind, t.ID, t.Subject, whenPtr(t.RevokedAt))
	})
}

func keyList(inv *invocation) error {
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	return listing(inv, "/admin/keys/", "keys", "KID\tCREATED\tRETIRED\tSIGNING HERE",
		func(k admin.Key) string {
			return strings.Join([]string{k.KID, when(k.CreatedAt), whenPtr(k.RetiredAt), yesNo(k.Signing)}, "\t")
		})
}

func keyRotate(inv *invocation) error {
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	var k admin.Key
	if err := inv.call(http.MethodPost, "/admin/keys/rotate/", nil, &k); err != nil {
		return err
	}
	return inv.output(k, func(w io.Writer) {
		fmt.Fprintf(w, "the hub node that answered now signs with key %s; older keys keep verifying until retired (taxiictl key retire KID)\n", k.KID)
	})
}

func keyRetire(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	var k admin.Key
	if err := inv.call(http.MethodPost, "/admin/keys/"+seg(args[0])+"/retire/", nil, &k); err != nil {
		return err
	}
	return inv.output(k, func(w io.Writer) {
		fmt.Fprintf(w, "retired key %s: tokens signed with it are refused\n", k.KID)
	})
}

func auditList(inv *invocation) error {
	after := inv.fs.Int64("after", 0, "list oldest first, from the action after this sequence number (for scripts that page the whole trail)")
	since := inv.fs.String("since", "", "only actions at or after this time: RFC 3339, a date (2026-12-01, UTC), or an age such as 24h or 7d")
	limit := inv.fs.Int("limit", 100, "at most this many actions (1 to 1000)")
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	if *limit < 1 || *limit > admin.MaxAuditPage {
		return usagef("--limit %d: want a number from 1 to %d", *limit, admin.MaxAuditPage)
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	switch {
	case inv.isSet("after") && *since != "":
		return usagef("give --since or --after, not both: --after lists oldest first")
	case inv.isSet("after"):
		q.Set("after", strconv.FormatInt(*after, 10))
	default:
		q.Set("newest", "true")
		if *since != "" {
			t, err := parseSince(*since, time.Now())
			if err != nil {
				return err
			}
			q.Set("since", t.Format(time.RFC3339Nano))
		}
	}
	var res struct {
		Entries []admin.AuditEntry `json:"entries"`
	}
	if err := inv.call(http.MethodGet, "/admin/audit/?"+q.Encode(), nil, &res); err != nil {
		return err
	}
	return inv.output(res, func(w io.Writer) {
		table(w, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tDETAIL", func(tw io.Writer) {
			for _, e := range res.Entries {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, when(e.At), e.Actor, e.Action, e.Target, orDash(e.Detail))
			}
		})
		if len(res.Entries) == *limit && q.Get("newest") != "" {
			fmt.Fprintf(w, "older: taxiictl audit --after %d --limit %d lists the trail oldest first\n",
				max(0, res.Entries[len(res.Entries)-1].Seq-int64(*limit)-1), *limit)
		}
	})
}

// parseSince reads --since: an RFC 3339 time, a date (midnight UTC), or an age before now in the
// units token lifetimes use (24h, 7d).
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := admin.ParseTTL(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usagef("--since %q: want an RFC 3339 time (2026-12-01T09:00:00Z), a date (2026-12-01) or an age (24h, 7d)", s)
}

func applySpec(inv *invocation) error {
	file := inv.fs.String("f", "", "the spec file (YAML); - reads standard input")
	dryRun := inv.fs.Bool("dry-run", false, "print the plan: what would change, and which rules it weakens; change nothing")
	confirm := confirmWeakenFlag(inv)
	if _, err := inv.parse(0, 0); err != nil {
		return err
	}
	if *file == "" {
		return usagef("name the spec file with -f")
	}
	data, err := readInput(*file, inv.stdin)
	if err != nil {
		return &inputError{err}
	}
	spec, err := admin.ParseSpecFile(*file, data)
	if err != nil {
		return &inputError{err}
	}
	q := url.Values{}
	if *dryRun {
		q.Set("dry_run", "true")
	}
	if *confirm {
		q.Set("confirm_weaken", "true")
	}
	path := "/admin/apply/"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var res admin.ApplyResult
	if err := inv.call(http.MethodPost, path, spec, &res); err != nil {
		return err
	}
	return inv.output(res, func(w io.Writer) {
		if len(res.Changes) == 0 {
			fmt.Fprintln(w, "no changes: the hub already matches "+*file)
			return
		}
		verb := "applied"
		if res.DryRun {
			verb = "would apply"
		}
		fmt.Fprintf(w, "%s %d changes:\n", verb, len(res.Changes))
		table(w, "  ACTION\tKIND\tTARGET\tDETAIL", func(tw io.Writer) {
			for _, c := range res.Changes {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Action, c.Kind, c.Target, orDash(c.Detail))
			}
		})
		if len(res.Weakenings) > 0 {
			fmt.Fprintf(w, "weakening the rules (applying needs --confirm-weaken):\n")
			for _, wk := range res.Weakenings {
				fmt.Fprintf(w, "  %s\n", wk)
			}
		}
	})
}
