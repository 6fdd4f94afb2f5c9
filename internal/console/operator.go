package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"taxiihub/internal/admin"
)

// What the operators' pages show: tokens expiring within expiringSoon, the audit trail of the last
// auditDays days (at most auditPage entries).
const (
	expiringSoon = 14 * 24 * time.Hour
	auditDays    = 30
	auditPage    = 200
)

func (c *Console) operatorRoutes(m *http.ServeMux) {
	m.HandleFunc("GET "+Prefix+"{$}", c.signedIn(c.partnerships))
	m.HandleFunc("POST "+Prefix+"partnerships/{root}/collections/{coll}/ceiling", c.signedIn(c.setCeiling))
	m.HandleFunc("POST "+Prefix+"partnerships/{root}/policy", c.signedIn(c.changePolicy))
	m.HandleFunc("POST "+Prefix+"partnerships/{root}/collections/{coll}/policy", c.signedIn(c.changePolicy))
	m.HandleFunc("GET "+Prefix+"tokens", c.signedIn(c.tokens))
	m.HandleFunc("POST "+Prefix+"tokens/{id}/revoke", c.signedIn(c.revoke))
	m.HandleFunc("POST "+Prefix+"tokens", c.signedIn(c.issue))
	m.HandleFunc("GET "+Prefix+"ledger", c.signedIn(c.ledger))
	m.HandleFunc("GET "+Prefix+"audit", c.signedIn(c.audit))
	m.HandleFunc("GET "+Prefix+"health", c.signedIn(c.health))
}

type opPartnership struct {
	admin.PartnershipDetail
	Rules []string
}

// ceilings are the TLP ceilings an operator may choose; "" is none.
var ceilings = []string{"", "clear", "green", "amber", "amber+strict", "red"}

type opHome struct {
	Partnerships []opPartnership
	Ceilings     []string
}

func (c *Console) partnerships(w http.ResponseWriter, r *http.Request, sess session) {
	list, err := c.admin.Partnerships(r.Context())
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	v := opHome{Ceilings: ceilings}
	for _, p := range list {
		d, err := c.admin.Partnership(r.Context(), p.Slug)
		if err != nil {
			c.failWith(w, r, err)
			return
		}
		v.Partnerships = append(v.Partnerships, opPartnership{PartnershipDetail: d, Rules: describePartnership(d.Policy)})
	}
	c.render(w, http.StatusOK, "operator-home", c.page(sess, "Partnerships", v))
}

func describePartnership(p admin.PartnershipPolicy) []string {
	var out []string
	b, _ := json.Marshal(p) // plain struct: cannot fail
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for k, v := range m {
		out = append(out, k+": "+strings.Trim(string(mustJSON(v)), `"`))
	}
	slices.Sort(out)
	if len(out) == 0 {
		out = append(out, "no rule beyond the defaults")
	}
	return out
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v) // values decoded from JSON: cannot fail
	return b
}

// changeView is a rule change done: what it was before and after.
type changeView struct {
	What          string
	Before, After string
	// Confirm, when set, is a weakening refused for want of confirmation: the form to confirm it.
	Confirm *confirmView
}

type confirmView struct {
	Action, Field, Value string
	Problems             []string
}

// setCeiling changes a collection's TLP ceiling; lowering it (tightening) is done at once, raising
// or removing it (a weakening) only once the operator confirms it on the page that says so.
func (c *Console) setCeiling(w http.ResponseWriter, r *http.Request, sess session) {
	slug, ref := r.PathValue("root"), r.PathValue("coll")
	level := r.PostFormValue("tlp_max")
	valid := false
	for _, l := range ceilings {
		valid = valid || l == level
	}
	if !valid {
		c.fail(w, r, http.StatusBadRequest, "The TLP ceiling must be none, clear, green, amber, amber+strict or red.")
		return
	}
	colls, err := c.admin.Collections(r.Context(), slug)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	var before admin.CollectionPolicy
	for _, col := range colls {
		if col.ID == ref || col.Alias == ref {
			before = col.Policy
		}
	}
	confirmed := r.PostFormValue("confirm_weaken") == "yes"
	after, err := c.admin.PatchCollectionPolicy(r.Context(), sess.actor(), slug, ref,
		admin.Patch{"tlp_max": mustJSON(level)}, confirmed)
	v := changeView{What: "TLP ceiling of " + slug + "/" + ref, Before: string(mustJSON(before)), After: string(mustJSON(after.Policy))}
	var ae *admin.Error
	if err != nil && errors.As(err, &ae) && ae.Kind == admin.Weakens {
		v.After = ""
		v.Confirm = &confirmView{Action: r.URL.Path, Field: "tlp_max", Value: level, Problems: ae.Problems}
		c.render(w, http.StatusConflict, "change", c.page(sess, "Confirm a weaker rule", v))
		return
	}
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	c.log.InfoContext(r.Context(), "console: policy changed", "actor", sess.actor(), "collection", slug+"/"+ref, "tlp_max", level)
	c.render(w, http.StatusOK, "change", c.page(sess, "Rule changed", v))
}

type tokensView struct {
	Tokens, Expiring []admin.Token
	Members          []admin.Member
	// Issued is a token just issued, shown this once.
	Issued *admin.IssuedToken
}

func (c *Console) tokens(w http.ResponseWriter, r *http.Request, sess session) {
	all, err := c.admin.Tokens(r.Context(), admin.TokenFilter{Subject: r.URL.Query().Get("subject")})
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	soon, err := c.admin.TokensExpiringWithin(r.Context(), expiringSoon)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	members, err := c.admin.Members(r.Context())
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	c.render(w, http.StatusOK, "tokens", c.page(sess, "Tokens", tokensView{Tokens: all, Expiring: soon, Members: members}))
}

// issue issues a partner token and shows it once; the hub keeps only its record.
func (c *Console) issue(w http.ResponseWriter, r *http.Request, sess session) {
	req := admin.TokenRequest{Kind: "partner", Subject: r.PostFormValue("member"), TTL: strings.TrimSpace(r.PostFormValue("ttl")),
		Note: strings.TrimSpace(r.PostFormValue("note"))}
	if r.PostFormValue("reviewer") == "yes" {
		req.Role = admin.TokenRoleReviewer
	}
	issued, err := c.admin.IssueToken(r.Context(), sess.actor(), req)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	c.log.InfoContext(r.Context(), "console: token issued", "actor", sess.actor(), "token", issued.Token.ID, "member", req.Subject)
	c.render(w, http.StatusOK, "issued", c.page(sess, "Token issued", tokensView{Issued: &issued}))
}

func (c *Console) revoke(w http.ResponseWriter, r *http.Request, sess session) {
	t, err := c.admin.RevokeToken(r.Context(), sess.actor(), r.PathValue("id"))
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	c.log.InfoContext(r.Context(), "console: token revoked", "actor", sess.actor(), "token", t.ID)
	http.Redirect(w, r, Prefix+"tokens", http.StatusSeeOther)
}

func (c *Console) ledger(w http.ResponseWriter, r *http.Request, sess session) {
	v, err := c.admin.VerifyLedger(r.Context())
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	c.render(w, http.StatusOK, "ledger", c.page(sess, "Ledger", v))
}

type auditView struct {
	Actor, Action string
	Days          int
	Entries       []admin.AuditEntry
}

// audit shows the audit trail of the last days, newest first, filtered by actor and action.
func (c *Console) audit(w http.ResponseWriter, r *http.Request, sess session) {
	q := r.URL.Query()
	v := auditView{Actor: q.Get("actor"), Action: q.Get("action"), Days: auditDays}
	if d, err := strconv.Atoi(q.Get("days")); err == nil && d > 0 && d <= 366 {
		v.Days = d
	}
	entries, err := c.admin.RecentAudit(r.Context(), c.now().Add(-time.Duration(v.Days)*24*time.Hour), auditPage)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	for _, e := range entries {
		if strings.Contains(e.Actor, v.Actor) && strings.Contains(e.Action, v.Action) {
			v.Entries = append(v.Entries, e)
		}
	}
	c.render(w, http.StatusOK, "audit", c.page(sess, "Audit trail", v))
}

// changePolicy changes any rule of a partnership, or of one of its collections, by a JSON merge
// patch as the admin API takes it ({"tlp_max":"green","review":null}). The admin use case decides
// what the patch may name and whether it weakens a rule; a weakening is done only once the operator
// confirms it on the page that names it, as with the TLP ceiling.
func (c *Console) changePolicy(w http.ResponseWriter, r *http.Request, sess session) {
	slug, ref := r.PathValue("root"), r.PathValue("coll")
	raw := strings.TrimSpace(r.PostFormValue("patch"))
	var patch admin.Patch
	if err := json.Unmarshal([]byte(raw), &patch); err != nil || len(patch) == 0 {
		c.fail(w, r, http.StatusBadRequest, `The change must be a JSON object naming the rules to change, such as {"tlp_max":"green"}; null removes a rule.`)
		return
	}
	confirmed := r.PostFormValue("confirm_weaken") == "yes"
	var before, after any
	var err error
	what := "Rules of " + slug
	if ref == "" {
		var d admin.PartnershipDetail
		if d, err = c.admin.Partnership(r.Context(), slug); err != nil {
			c.failWith(w, r, err)
			return
		}
		before = d.Policy
		var p admin.Partnership
		p, err = c.admin.PatchPartnershipPolicy(r.Context(), sess.actor(), slug, patch, confirmed)
		after = p.Policy
	} else {
		what = "Rules of " + slug + "/" + ref
		colls, lerr := c.admin.Collections(r.Context(), slug)
		if lerr != nil {
			c.failWith(w, r, lerr)
			return
		}
		for _, col := range colls {
			if col.ID == ref || col.Alias == ref {
				before = col.Policy
			}
		}
		var col admin.Collection
		col, err = c.admin.PatchCollectionPolicy(r.Context(), sess.actor(), slug, ref, patch, confirmed)
		after = col.Policy
	}
	v := changeView{What: what, Before: string(mustJSON(before)), After: string(mustJSON(after))}
	var ae *admin.Error
	if err != nil && errors.As(err, &ae) && ae.Kind == admin.Weakens {
		v.After = ""
		v.Confirm = &confirmView{Action: r.URL.Path, Field: "patch", Value: raw, Problems: ae.Problems}
		c.render(w, http.StatusConflict, "change", c.page(sess, "Confirm a weaker rule", v))
		return
	}
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	c.log.InfoContext(r.Context(), "console: policy changed", "actor", sess.actor(), "partnership", slug, "collection", ref, "rules", patch.Keys())
	c.render(w, http.StatusOK, "change", c.page(sess, "Rule changed", v))
}

// health shows the hub's state: the store's answer, the ledger's and audit trail's heads, and the
// tokens about to expire, as the admin use case reads them.
func (c *Console) health(w http.ResponseWriter, r *http.Request, sess session) {
	h := c.admin.Health(r.Context())
	status := http.StatusOK
	if !h.StoreReachable {
		status = http.StatusServiceUnavailable
	}
	c.render(w, status, "health", c.page(sess, "Health", h))
}
