package console

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"taxiihub/internal/auth"
	"taxiihub/internal/convert"
	"taxiihub/internal/identity"
	"taxiihub/internal/sharing"
	"taxiihub/internal/store"
)

// Page sizes of the partners' pages: a browse page, an export, a page of pulls.
const (
	browsePage = 50
	exportPage = 1000
	pullsPage  = 100
)

func (c *Console) partnerRoutes(m *http.ServeMux) {
	m.HandleFunc("GET "+Prefix+"{$}", c.signedIn(c.asPartner(c.home)))
	m.HandleFunc("GET "+Prefix+"collections/{root}/{coll}/{$}", c.signedIn(c.browse))
	m.HandleFunc("GET "+Prefix+"collections/{root}/{coll}/export", c.signedIn(c.export))
	m.HandleFunc("GET "+Prefix+"collections/{root}/{coll}/objects/{id}", c.signedIn(c.object))
	m.HandleFunc("GET "+Prefix+"collections/{root}/{coll}/objects/{id}/withdraw", c.signedIn(c.confirmWithdraw))
	m.HandleFunc("POST "+Prefix+"collections/{root}/{coll}/objects/{id}/withdraw", c.signedIn(c.withdraw))
	m.HandleFunc("GET "+Prefix+"collections/{root}/{coll}/publish", c.signedIn(c.publishForm))
	m.HandleFunc("POST "+Prefix+"collections/{root}/{coll}/publish", c.signedIn(c.publish))
	m.HandleFunc("GET "+Prefix+"partnerships/{root}/pulls", c.signedIn(c.pulls))
	m.HandleFunc("GET "+Prefix+"partnerships/{root}/publications", c.signedIn(c.asPartner(c.publications)))
	m.HandleFunc("GET "+Prefix+"search", c.signedIn(c.search))
	m.HandleFunc("GET "+Prefix+"member/tokens", c.signedIn(c.asPartner(c.memberTokens)))
	m.HandleFunc("GET "+Prefix+"review", c.signedIn(c.asPartner(c.reviewQueue)))
	m.HandleFunc("GET "+Prefix+"review/{root}/{status}", c.signedIn(c.asPartner(c.reviewRequest)))
	m.HandleFunc("POST "+Prefix+"review/{root}/{status}", c.signedIn(c.asPartner(c.decide)))
}

// collectionView is a collection as the home page shows it: its rules in plain words.
type collectionView struct {
	Root, ID, Title, Description string
	Read, Write                  bool
	Rules                        []string
}

type partnershipView struct {
	Slug, Title, Description string
	Rules                    []string
	Collections              []collectionView
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, sess session, p auth.Principal) {
	roots, err := c.sharing.Roots(r.Context(), p)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	var out []partnershipView
	for _, root := range roots {
		accs, err := c.sharing.Collections(r.Context(), p, root.Slug)
		if err != nil {
			c.failWith(w, r, err)
			return
		}
		oneWay, err := c.sharing.OneWay(r.Context(), root.Slug)
		if err != nil {
			c.failWith(w, r, err)
			return
		}
		pv := partnershipView{Slug: root.Slug, Title: root.Title, Description: root.Description,
			Rules: partnershipRules(root.Policy, oneWay)}
		for _, a := range accs {
			if a.Collection.Members {
				continue // the members' identities, which the hub keeps
			}
			pv.Collections = append(pv.Collections, collectionView{Root: root.Slug, ID: a.Collection.ID,
				Title: a.Collection.Title, Description: a.Collection.Description, Read: a.CanRead(), Write: a.CanWrite(),
				Rules: collectionRules(a)})
		}
		out = append(out, pv)
	}
	c.render(w, http.StatusOK, "home", c.page(sess, "Partnerships", out))
}

func partnershipRules(p store.PartnershipPolicy, oneWay bool) []string {
	var rules []string
	switch p.PersonalData {
	case store.PersonalDataReject:
		rules = append(rules, "No personal data: objects carrying any are refused.")
	case store.PersonalDataStrip:
		rules = append(rules, "No personal data: it is removed from objects before they are stored.")
	default:
		rules = append(rules, "Personal data is allowed.")
	}
	if p.NoOnwardSharing {
		rules = append(rules, "No onward sharing: what you read here may not be published into another partnership.")
	}
	if len(p.Jurisdictions) > 0 {
		rules = append(rules, "Only members from "+strings.Join(p.Jurisdictions, ", ")+" may take part.")
	}
	if oneWay {
		rules = append(rules, "One-way: some members only publish, others only read.")
	}
	return rules
}

func collectionRules(a sharing.Access) []string {
	var rules []string
	pol := a.Collection.Policy
	if pol.MaxTLP != store.TLPNone {
		rules = append(rules, "TLP ceiling: nothing above TLP:"+strings.ToUpper(pol.MaxTLP.String())+".")
	} else {
		rules = append(rules, "No TLP ceiling.")
	}
	if pol.Unmarked == "refuse" {
		rules = append(rules, "Objects without a TLP marking are refused.")
	}
	if len(pol.AllowedTypes) > 0 {
		rules = append(rules, "Allowed content: "+strings.Join(pol.AllowedTypes, ", ")+".")
	}
	if len(pol.DeniedProperties) > 0 {
		rules = append(rules, "Refused properties: "+strings.Join(pol.DeniedProperties, ", ")+".")
	}
	if pol.Review != "" {
		rules = append(rules, "What is posted waits for a reviewer's release ("+string(pol.Review)+").")
	}
	if a.Membership.Clearance != store.TLPNone {
		rules = append(rules, "Your clearance: you read up to TLP:"+strings.ToUpper(a.Membership.Clearance.String())+".")
	}
	switch {
	case a.CanRead() && a.CanWrite():
		rules = append(rules, "You read and publish here.")
	case a.CanRead():
		rules = append(rules, "You read here; you do not publish.")
	case a.CanWrite():
		rules = append(rules, "You publish here; you do not read.")
	}
	return rules
}

// access is the session's access to the collection of the path.
func (c *Console) access(r *http.Request, sess session) (sharing.Access, error) {
	p, err := c.principal(r, sess)
	if err != nil {
		return sharing.Access{}, err
	}
	return c.sharing.Access(r.Context(), p, r.PathValue("root"), r.PathValue("coll"))
}

type recordView struct {
	ID, Type, Summary string
	Version, Added    time.Time
	TLP               string
	Withdrawn         bool
}

func recordViewOf(rec store.Record) recordView {
	v := recordView{ID: rec.ID, Type: rec.Type, Version: rec.Version, Added: rec.DateAdded, Withdrawn: rec.Withdrawn}
	if rec.TLP != store.TLPNone && rec.TLP != store.TLPUnknown {
		v.TLP = "TLP:" + strings.ToUpper(rec.TLP.String())
	}
	var obj map[string]any
	if json.Unmarshal(rec.Content, &obj) == nil {
		for _, k := range []string{"name", "pattern", "value"} {
			if s, ok := obj[k].(string); ok {
				v.Summary = s
				break
			}
		}
	}
	return v
}

type browseView struct {
	Root, Coll, Title string
	Type, AddedAfter  string
	Records           []recordView
	Next              string
	CanWrite          bool
}

// query reads the browse filters: type and added_after (a date or an RFC 3339 time) and the cursor.
func browseQuery(r *http.Request, limit int) (store.Query, error) {
	q := store.Query{Limit: limit, Cursor: r.URL.Query().Get("next")}
	if t := strings.TrimSpace(r.URL.Query().Get("type")); t != "" {
		q.Types = []string{t}
	}
	if a := strings.TrimSpace(r.URL.Query().Get("added_after")); a != "" {
		at, err := time.Parse(time.RFC3339, a)
		if err != nil {
			if at, err = time.Parse(time.DateOnly, a); err != nil {
				return q, &sharing.Error{Kind: sharing.Invalid, Message: "Added after must be a date (2026-01-31) or a time (2026-01-31T12:00:00Z)."}
			}
		}
		q.AddedAfter = at
	}
	return q, nil
}

func (c *Console) browse(w http.ResponseWriter, r *http.Request, sess session) {
	acc, err := c.access(r, sess)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	q, err := browseQuery(r, browsePage)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	page, err := c.sharing.Objects(r.Context(), acc, q)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	v := browseView{Root: acc.Root.Slug, Coll: acc.Collection.ID, Title: acc.Collection.Title, Type: r.URL.Query().Get("type"),
		AddedAfter: r.URL.Query().Get("added_after"), CanWrite: acc.CanWrite() && sess.roles.analyst}
	for _, rec := range page.Records {
		v.Records = append(v.Records, recordViewOf(rec))
	}
	if page.More {
		v.Next = page.Next
	}
	c.render(w, http.StatusOK, "browse", c.page(sess, acc.Collection.Title, v))
}

// export answers a page of the collection, as browse selects it, as a STIX bundle or a CSV file.
func (c *Console) export(w http.ResponseWriter, r *http.Request, sess session) {
	acc, err := c.access(r, sess)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	q, err := browseQuery(r, exportPage)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format != "stix" && format != "csv" {
		c.fail(w, r, http.StatusBadRequest, "The export format must be stix or csv.")
		return
	}
	page, err := c.sharing.Objects(r.Context(), acc, q)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	name := acc.Root.Slug + "-" + acc.Collection.ID
	if format == "stix" {
		objects := make([]json.RawMessage, len(page.Records))
		for i, rec := range page.Records {
			objects[i] = rec.Content
		}
		body, err := json.MarshalIndent(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": objects}, "", "  ")
		if err != nil {
			c.failWith(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/stix+json;version=2.1")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "type", "version", "date_added", "tlp", "withdrawn", "summary"})
	for _, rec := range page.Records {
		v := recordViewOf(rec)
		_ = cw.Write([]string{v.ID, v.Type, v.Version.UTC().Format(time.RFC3339Nano), v.Added.UTC().Format(time.RFC3339Nano),
			v.TLP, strconv.FormatBool(v.Withdrawn), csvSafe(v.Summary)})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from taking a value a partner wrote for a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type objectView struct {
	Root, Coll, ID  string
	Versions        []recordView
	Raw             string
	Markings        []string
	Related         []relation
	Graph           *graph
	Owner, CanWrite bool
	Withdrawn       bool
}

type relation struct{ Property, Ref string }

// graph is the object and what it refers to, laid out on a circle around it, drawn as SVG by the
// page itself: no script, no library.
type graph struct {
	Width, Height, CX, CY int
	Center                string
	Nodes                 []graphNode
}

type graphNode struct {
	X, Y            int
	Label, Property string
	LabelX, LabelY  int
}

// maxGraphNodes is how many references the graph draws; the list below it names them all.
const maxGraphNodes = 16

func graphOf(id string, rel []relation) *graph {
	if len(rel) == 0 {
		return nil
	}
	g := &graph{Width: 720, Height: 420, CX: 360, CY: 210, Center: shortID(id)}
	n := min(len(rel), maxGraphNodes)
	for i, r := range rel[:n] {
		a := 2*math.Pi*float64(i)/float64(n) - math.Pi/2
		x, y := g.CX+int(260*math.Cos(a)), g.CY+int(160*math.Sin(a))
		g.Nodes = append(g.Nodes, graphNode{X: x, Y: y, Label: shortID(r.Ref), Property: r.Property,
			LabelX: (g.CX + x) / 2, LabelY: (g.CY+y)/2 - 4})
	}
	return g
}

// shortID is an id as the graph labels it: its type and the start of its UUID.
func shortID(id string) string {
	typ, uuid, ok := strings.Cut(id, "--")
	if !ok || len(uuid) < 8 {
		return id
	}
	return typ + "--" + uuid[:8]
}

func (c *Console) object(w http.ResponseWriter, r *http.Request, sess session) {
	acc, err := c.access(r, sess)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	id := r.PathValue("id")
	newest, err := c.sharing.Object(r.Context(), acc, id, store.Query{Limit: 1})
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	versions, err := c.sharing.Versions(r.Context(), acc, id, store.Query{Limit: browsePage})
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	v := objectView{Root: acc.Root.Slug, Coll: acc.Collection.ID, ID: id, CanWrite: acc.CanWrite() && sess.roles.analyst}
	for _, rec := range versions.Records {
		v.Versions = append(v.Versions, recordViewOf(rec))
	}
	if len(newest.Records) > 0 {
		rec := newest.Records[0]
		v.Withdrawn = rec.Withdrawn
		var pretty bytes.Buffer
		if json.Indent(&pretty, rec.Content, "", "  ") == nil {
			v.Raw = pretty.String()
		}
		var obj map[string]any
		if json.Unmarshal(rec.Content, &obj) == nil {
			v.Markings, v.Related = markingsAndRelations(obj)
			v.Graph = graphOf(id, v.Related)
			// Only the member that first published the object withdraws it, as Withdraw decides; its
			// identity as the author is the page's hint for offering to.
			v.Owner = obj["created_by_ref"] == identity.OfMember(acc.Caller.MemberID)
		}
	}
	c.render(w, http.StatusOK, "object", c.page(sess, id, v))
}

// markingsAndRelations lists the markings an object carries and the objects it refers to, by the
// property that refers to them.
func markingsAndRelations(obj map[string]any) ([]string, []relation) {
	var markings []string
	for _, m := range stringsOf(obj["object_marking_refs"]) {
		markings = append(markings, m)
	}
	if gm, ok := obj["granular_markings"].([]any); ok {
		for _, g := range gm {
			if g, ok := g.(map[string]any); ok {
				if ref, ok := g["marking_ref"].(string); ok {
					markings = append(markings, ref+" (on "+strings.Join(stringsOf(g["selectors"]), ", ")+")")
				}
			}
		}
	}
	var rel []relation
	for k, val := range obj {
		if k == "object_marking_refs" {
			continue
		}
		switch {
		case strings.HasSuffix(k, "_ref"):
			if s, ok := val.(string); ok {
				rel = append(rel, relation{k, s})
			}
		case strings.HasSuffix(k, "_refs"):
			for _, s := range stringsOf(val) {
				rel = append(rel, relation{k, s})
			}
		}
	}
	slices.SortFunc(rel, func(a, b relation) int { return cmp.Or(cmp.Compare(a.Property, b.Property), cmp.Compare(a.Ref, b.Ref)) })
	return markings, rel
}

func (c *Console) confirmWithdraw(w http.ResponseWriter, r *http.Request, sess session) {
	acc, err := c.access(r, sess)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	if !sess.roles.analyst {
		c.fail(w, r, http.StatusForbidden, "Withdrawing needs the analyst role.")
		return
	}
	c.render(w, http.StatusOK, "withdraw", c.page(sess, "Withdraw "+r.PathValue("id"),
		objectView{Root: acc.Root.Slug, Coll: acc.Collection.ID, ID: r.PathValue("id")}))
}

func (c *Console) withdraw(w http.ResponseWriter, r *http.Request, sess session) {
	acc, err := c.access(r, sess)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	if !sess.roles.analyst {
		c.fail(w, r, http.StatusForbidden, "Withdrawing needs the analyst role.")
		return
	}
	if _, err := c.sharing.Withdraw(r.Context(), acc, r.PathValue("id")); err != nil {
		c.failWith(w, r, err)
		return
	}
	c.log.InfoContext(r.Context(), "console: withdrawn", "who", sess.who(), "object", r.PathValue("id"))
	http.Redirect(w, r, Prefix+"collections/"+acc.Root.Slug+"/"+acc.Collection.ID+"/objects/"+r.PathValue("id"), http.StatusSeeOther)
}

// publishView is the publish form, and after a preview or a publication, its result.
type publishView struct {
	Root, Coll, Title string
	TLPs              []string
	Form              publishForm
	Done              bool
	DryRun            bool
	Status            store.Status
	Counts            map[string]int
	Lines             []sharing.LineVerdict
}

type publishForm struct {
	Format, Content, TLP, ValidFor, Confidence, Description string
}

// allowedTLPs are the levels the collection's ceiling admits, lowest first.
func allowedTLPs(pol store.CollectionPolicy) []string {
	var out []string
	for _, t := range []store.TLP{store.TLPClear, store.TLPGreen, store.TLPAmber, store.TLPAmberStrict, store.TLPRed} {
		if pol.MaxTLP.Admits(t) {
			out = append(out, t.String())
		}
	}
	return out
}

func (c *Console) publishForm(w http.ResponseWriter, r *http.Request, sess session) {
	acc, err := c.writable(r, sess)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	tlps := allowedTLPs(acc.Collection.Policy)
	v := publishView{Root: acc.Root.Slug, Coll: acc.Collection.ID, Title: acc.Collection.Title, TLPs: tlps,
		Form: publishForm{Format: "auto", TLP: tlps[len(tlps)-1]}}
	if slices.Contains(tlps, "amber") {
		v.Form.TLP = "amber"
	}
	c.render(w, http.StatusOK, "publish", c.page(sess, "Publish to "+acc.Collection.Title, v))
}

// writable is the access of an analyst about to publish: refused early, with the reason, when the
// collection does not take the member's objects.
func (c *Console) writable(r *http.Request, sess session) (sharing.Access, error) {
	if !sess.roles.analyst {
		return sharing.Access{}, &sharing.Error{Kind: sharing.Forbidden, Message: "Publishing needs the analyst role."}
	}
	acc, err := c.access(r, sess)
	if err != nil {
		return acc, err
	}
	return acc, acc.RequireWrite()
}

func (c *Console) publish(w http.ResponseWriter, r *http.Request, sess session) {
	acc, err := c.writable(r, sess)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	tlps := allowedTLPs(acc.Collection.Policy)
	f := publishForm{Format: r.PostFormValue("format"), Content: r.PostFormValue("content"), TLP: r.PostFormValue("tlp"),
		ValidFor: strings.TrimSpace(r.PostFormValue("valid_for")), Confidence: strings.TrimSpace(r.PostFormValue("confidence")),
		Description: strings.TrimSpace(r.PostFormValue("description"))}
	if file, _, err := r.FormFile("file"); err == nil {
		b, err := io.ReadAll(io.LimitReader(file, c.maxBody+1))
		_ = file.Close()
		if err != nil || int64(len(b)) > c.maxBody {
			c.fail(w, r, http.StatusRequestEntityTooLarge, "The file could not be read within the hub's size limit.")
			return
		}
		if len(b) > 0 {
			f.Content = string(b)
		}
	}
	opts, err := f.options(tlps)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	dryRun := r.PostFormValue("action") != "publish"
	conv, err := c.sharing.PublishConversion(r.Context(), acc, strings.NewReader(f.Content), opts, dryRun)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	v := publishView{Root: acc.Root.Slug, Coll: acc.Collection.ID, Title: acc.Collection.Title, TLPs: tlps, Form: f,
		Done: true, DryRun: dryRun, Status: conv.Status, Counts: map[string]int{}, Lines: conv.Lines}
	for _, l := range conv.Lines {
		v.Counts[l.Verdict]++
	}
	if !dryRun {
		c.log.InfoContext(r.Context(), "console: published", "who", sess.who(), "collection", acc.Collection.ID,
			"status", conv.Status.ID, "lines", len(conv.Lines))
	}
	title := "Preview"
	if !dryRun {
		title = "Published"
	}
	c.render(w, http.StatusOK, "publish", c.page(sess, title, v))
}

func (f publishForm) options(tlps []string) (convert.Options, error) {
	invalid := func(msg string) error { return &sharing.Error{Kind: sharing.Invalid, Message: msg} }
	var opts convert.Options
	var err error
	if opts.Format, err = convert.ParseFormat(cmp.Or(f.Format, "auto")); err != nil {
		return opts, invalid("The format must be auto, lines, csv, misp or stix.")
	}
	if !slices.Contains(tlps, f.TLP) {
		return opts, invalid("This collection takes TLP " + strings.Join(tlps, ", ") + " only.")
	}
	opts.TLP = f.TLP
	if opts.ValidFor, err = convert.ParseValidFor(f.ValidFor); err != nil {
		return opts, invalid("The lifetime must be a duration such as 30d or 720h, or none.")
	}
	if f.Confidence != "" {
		n, err := strconv.Atoi(f.Confidence)
		if err != nil || n < 0 || n > 100 {
			return opts, invalid("The confidence must be a whole number from 0 to 100.")
		}
		opts.Confidence = &n
	}
	if len(f.Description) > 4096 {
		return opts, invalid("The description may be 4,096 characters long at most.")
	}
	opts.Description = f.Description
	if strings.TrimSpace(f.Content) == "" {
		return opts, invalid("Paste indicators or choose a file to publish.")
	}
	return opts, nil
}

type pullView struct {
	At           time.Time
	Member, Whom string
	Collection   string
	Endpoint     string
	Objects      []string
}

type pullsView struct {
	Root  string
	Pulls []pullView
	Next  int64
}

// pulls shows who pulled what the member published first in a partnership, the person where one
// pulled through the console.
func (c *Console) pulls(w http.ResponseWriter, r *http.Request, sess session) {
	if !sess.roles.analyst && !sess.roles.memberAdmin {
		c.fail(w, r, http.StatusForbidden, "Who pulled your objects is for analysts and member admins.")
		return
	}
	p, err := c.principal(r, sess)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	page, err := c.sharing.Pulls(r.Context(), p, r.PathValue("root"), store.PullQuery{After: max(after, 0), Limit: pullsPage})
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	v := pullsView{Root: r.PathValue("root")}
	for _, e := range page.Entries {
		pv := pullView{At: e.At, Member: e.Member, Whom: e.Person.Name, Collection: e.Collection, Endpoint: e.Endpoint}
		for _, it := range e.Items {
			pv.Objects = append(pv.Objects, it.ID)
		}
		v.Pulls = append(v.Pulls, pv)
	}
	if page.More {
		v.Next = page.Next
	}
	c.render(w, http.StatusOK, "pulls", c.page(sess, "Who pulled "+v.Root, v))
}

type publicationView struct {
	At             time.Time
	Collection, By string
	Counts         map[string]int
	Objects        []string
}

type publicationsView struct {
	Root         string
	Scan         int
	Publications []publicationView
}

// publications shows what the member published in a partnership, newest first: where, when, by
// whom, and what became of each object.
func (c *Console) publications(w http.ResponseWriter, r *http.Request, sess session, p auth.Principal) {
	entries, err := c.sharing.Publications(r.Context(), p, r.PathValue("root"), pullsPage)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	v := publicationsView{Root: r.PathValue("root"), Scan: sharing.PublicationScan}
	for _, e := range entries {
		pv := publicationView{At: e.At, Collection: e.Collection, By: e.Person.Name, Counts: map[string]int{}}
		if pv.By == "" {
			pv.By = "token " + e.TokenID
		}
		for _, it := range e.Items {
			pv.Counts[it.Verdict]++
			pv.Objects = append(pv.Objects, it.ID)
		}
		v.Publications = append(v.Publications, pv)
	}
	c.render(w, http.StatusOK, "publications", c.page(sess, "Our publications in "+v.Root, v))
}

type memberTokensView struct {
	SoonDays int
	Tokens   []sharing.MemberToken
}

// memberTokens shows a member admin its member's token records; the use case decides who may.
func (c *Console) memberTokens(w http.ResponseWriter, r *http.Request, sess session, p auth.Principal) {
	list, err := c.sharing.MemberTokens(r.Context(), p)
	if err != nil {
		c.failWith(w, r, err)
		return
	}
	v := memberTokensView{SoonDays: int(sharing.TokenExpiringSoon / (24 * time.Hour)), Tokens: list}
	c.render(w, http.StatusOK, "member-tokens", c.page(sess, "Our tokens", v))
}
