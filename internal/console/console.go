// Package console is the hub's web console: server-rendered pages for the analysts of each member
// (on the partners' listener) and for operators (on the admin listener), under /console/.
//
// The pages are html/template, their style sheet embedded with go:embed; there is no script at all,
// so the Content-Security-Policy forbids every script and the console works with a keyboard and
// any browser the closed networks these hubs run in allow. Every page calls the application layer
// (sharing for partners, admin for operators), which decides every right and rule exactly as for
// TAXII and the admin API; the console never reads the store.
//
// People sign in with a token presented once (exchanged for a session; the token is not kept) or
// through OpenID Connect (authorization code flow with PKCE) at their member's identity provider,
// or the operators' one. Sessions live in the process's memory: see sessions.
package console

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/sharing"
	"taxiihub/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Defaults of the session settings.
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	DefaultMaxSessions     = 10_000
	// maxForm bounds a form without a file: sign-in, withdraw, a policy change.
	maxForm = 64 << 10
	// maxPublishing is how many publish forms (each up to MaxBody) a node reads and converts at
	// once; the next one is answered 503 at once. With the TAXII API's --ingest-memory this bounds
	// what bodies in flight can take.
	maxPublishing = 2
)

// Authenticator checks what people present at sign-in and, on every request, that the token a
// session was opened with still holds.
type Authenticator interface {
	Partner(ctx context.Context, authorization string) (auth.Principal, error)
	ResumePartner(ctx context.Context, tokenID string, now time.Time) (auth.Principal, error)
	Member(ctx context.Context, memberID string, person store.Person) (auth.Principal, error)
	VerifyOperator(ctx context.Context, authorization string) (name, tokenID string, err error)
	ResumeOperator(ctx context.Context, tokenID string, now time.Time) (string, error)
}

// Config is what New needs.
type Config struct {
	// Sharing serves the partners' console; Admin the operators'. Exactly one is set.
	Sharing *sharing.Service
	Admin   *admin.Service
	Auth    Authenticator
	// BaseURL is the console's address as browsers reach it (scheme and host, such as
	// https://hub.example.org), from which identity providers' redirect address is made. Needed
	// only with Providers.
	BaseURL string
	// Providers are the operators' identity providers, configured on the hub; the operators'
	// console serves them.
	Providers []Provider
	// MemberProviders lists the members' identity providers, as operators set them on the members
	// (admin API, spec files); the partners' console asks for them at each sign-in, so a change
	// takes effect at once. Nil means none.
	MemberProviders func(ctx context.Context) ([]Provider, error)
	// Secure marks the cookies Secure: the hub serves TLS.
	Secure bool
	// IdleTimeout and AbsoluteTimeout end a session unused, or open, that long; MaxSessions bounds
	// how many are open at once (the least recently used is ended for a new one).
	IdleTimeout, AbsoluteTimeout time.Duration
	MaxSessions                  int
	// MaxBody is the largest publish form (pasted text or uploaded file): the hub's
	// --max-content-length.
	MaxBody int64
	// HTTPClient reaches the identity providers; nil means http.DefaultClient.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Console serves the console's pages.
type Console struct {
	sharing   *sharing.Service
	admin     *admin.Service
	auth      Authenticator
	sessions  *sessions
	providers map[string]*relyingParty
	order     []string
	members   func(ctx context.Context) ([]Provider, error)
	baseURL   string
	client    *http.Client
	// rps are the relying parties of members' providers, by member, kept for their discovery.
	rpMu sync.Mutex
	rps  map[string]*relyingParty
	// publishing holds a token per publish form being read and converted.
	publishing chan struct{}
	secure     bool
	maxBody    int64
	log        *slog.Logger
	now        func() time.Time
	pages      map[string]*template.Template
	mux        *http.ServeMux
}

// Prefix is where the console is served.
const Prefix = "/console/"

// New returns the console of a face of the hub: the partners' (cfg.Sharing) or the operators'
// (cfg.Admin).
func New(cfg Config) (*Console, error) {
	if (cfg.Sharing == nil) == (cfg.Admin == nil) {
		return nil, errors.New("console: give exactly one of Sharing and Admin")
	}
	c := &Console{sharing: cfg.Sharing, admin: cfg.Admin, auth: cfg.Auth, secure: cfg.Secure,
		maxBody: cmp.Or(cfg.MaxBody, 32<<20), log: cfg.Logger, now: cfg.Now, providers: map[string]*relyingParty{},
		baseURL: strings.TrimSuffix(cfg.BaseURL, "/"), rps: map[string]*relyingParty{},
		publishing: make(chan struct{}, maxPublishing)}
	if c.sharing != nil {
		c.members = cfg.MemberProviders
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.sessions = newSessions(cmp.Or(cfg.MaxSessions, DefaultMaxSessions), cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout),
		cmp.Or(cfg.AbsoluteTimeout, DefaultAbsoluteTimeout), c.now)
	client := cmp.Or(cfg.HTTPClient, http.DefaultClient)
	c.client = client
	for _, p := range cfg.Providers {
		if !p.Operators || !c.operators() {
			continue
		}
		if cfg.BaseURL == "" {
			return nil, errors.New("console: identity providers need the console's base URL")
		}
		if err := p.Check(); err != nil {
			return nil, err
		}
		c.providers[p.Name] = &relyingParty{cfg: p, client: client, redirect: c.baseURL + Prefix + "oidc/callback"}
		c.order = append(c.order, p.Name)
	}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) operators() bool { return c.admin != nil }

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"path": url.PathEscape,
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// ServeHTTP serves the console, every answer with the headers that keep it from being framed,
// scripted or cached.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "+
		"base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method == http.MethodPost && !sameOrigin(r) {
		c.fail(w, r, http.StatusForbidden, "This form was sent from another site.")
		return
	}
	c.mux.ServeHTTP(w, r)
}

// sameOrigin refuses a POST a browser says came from another site (Fetch metadata, else Origin): a
// second line behind the CSRF token, and the only one for the sign-in form.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		// Not a browser, or one too old to say: the CSRF token still guards every session's form.
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

func (c *Console) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static") // the directory is embedded above
	m.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", http.FileServerFS(static)))
	m.HandleFunc("GET "+Prefix+"signin", c.signInPage)
	m.HandleFunc("POST "+Prefix+"signin", c.signInWithToken)
	m.HandleFunc("GET "+Prefix+"oidc/{provider}/start", c.startOIDC)
	m.HandleFunc("GET "+Prefix+"oidc/callback", c.finishOIDC)
	m.HandleFunc("POST "+Prefix+"signout", c.signOut)
	if c.operators() {
		c.operatorRoutes(m)
	} else {
		c.partnerRoutes(m)
	}
	m.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, "There is no console page at this address.")
	})
	c.mux = m
}

// Cookie names: the session's, and the pending sign-in's, which must survive the redirect back
// from the identity provider (a cross-site navigation), so it is Lax where the session is Strict.
//
// Browsers keep cookies by host, not by port, so the operators' console, on another port of the
// same host, names its cookies apart: otherwise each console's sign-in would end the other's.
func (c *Console) cookieName(base string) string {
	if c.operators() {
		base = "operator-" + base
	}
	if c.secure {
		return "__Host-" + base
	}
	return base
}

const (
	sessionCookie = "taxiihub-console"
	loginCookie   = "taxiihub-console-login"
)

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge int, site http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure, SameSite: site})
}

// current returns the request's session, or false.
func (c *Console) current(r *http.Request) (string, session, bool) {
	ck, err := r.Cookie(c.cookieName(sessionCookie))
	if err != nil || ck.Value == "" {
		return "", session{}, false
	}
	sess, ok := c.sessions.get(ck.Value)
	return ck.Value, sess, ok
}

// view is what every page's template gets besides its own data.
type view struct {
	Title    string
	Operator bool
	Signed   bool
	Who      string
	CSRF     string
	Roles    roles
	Message  string
	Data     any
}

func (v view) Analyst() bool     { return v.Roles.analyst }
func (v view) MemberAdmin() bool { return v.Roles.memberAdmin }
func (v view) Reviewer() bool    { return v.Roles.reviewer }

func (c *Console) render(w http.ResponseWriter, status int, page string, v view) {
	t, ok := c.pages[page]
	if !ok {
		panic("console: no page " + page)
	}
	v.Operator = c.operators()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.Execute(w, v); err != nil {
		c.log.Error("console: render", "page", page, "err", err)
	}
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, message string) {
	_, sess, signed := c.current(r)
	v := view{Title: http.StatusText(status), Message: message, Signed: signed}
	if signed {
		v.Who, v.CSRF = sess.who(), sess.csrf
	}
	c.render(w, status, "error", v)
}

// failWith answers an error of the application layer: its sentence and status for a refusal, a
// generic sentence for anything else, which is logged.
func (c *Console) failWith(w http.ResponseWriter, r *http.Request, err error) {
	var ae *admin.Error
	se, isSharing := sharingError(err)
	switch {
	case isSharing:
		status := map[sharing.Kind]int{sharing.NotFound: http.StatusNotFound, sharing.Forbidden: http.StatusForbidden,
			sharing.OneWay: http.StatusForbidden, sharing.NotOwner: http.StatusForbidden, sharing.Invalid: http.StatusBadRequest,
			sharing.TooLarge: http.StatusRequestEntityTooLarge}[se.Kind]
		c.fail(w, r, cmp.Or(status, http.StatusBadRequest), se.Message)
	case errors.As(err, &ae):
		status := map[admin.Kind]int{admin.Invalid: http.StatusBadRequest, admin.NotFound: http.StatusNotFound,
			admin.Conflict: http.StatusConflict, admin.Weakens: http.StatusConflict}[ae.Kind]
		msg := ae.Message
		if len(ae.Problems) > 0 {
			msg += ": " + strings.Join(ae.Problems, "; ")
		}
		c.fail(w, r, cmp.Or(status, http.StatusBadRequest), msg)
	default:
		c.log.ErrorContext(r.Context(), "console: request failed", "path", r.URL.Path, "err", err)
		c.fail(w, r, http.StatusInternalServerError, "The hub could not answer; the operators have the details in its log.")
	}
}

// sharingError returns the application layer's refusal err carries, if any.
func sharingError(err error) (*sharing.Error, bool) {
	var se *sharing.Error
	ok := errors.As(err, &se)
	return se, ok
}

func (s session) who() string {
	name := cmp.Or(s.member, s.operator)
	if !s.person.IsZero() {
		return s.person.Name + " (" + name + ")"
	}
	return name + " (token)"
}

// actor is how the audit trail names an operator acting through the console: the operator, and
// the person when one signed in.
func (s session) actor() string {
	if s.person.IsZero() {
		return s.operator
	}
	return s.operator + " (" + s.person.String() + ")"
}

// checkCSRF reads a state-changing form, bounded, and checks its CSRF token against the session's.
func (c *Console) checkCSRF(w http.ResponseWriter, r *http.Request, sess session) bool {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// Up to 1 MiB in memory; the rest of an upload, within MaxBody, goes to a temporary file.
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			c.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is larger than the hub accepts (%d bytes); send it in parts.", tooLarge.Limit))
			return false
		}
		c.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	if !sameToken(r.PostFormValue("csrf"), sess.csrf) {
		c.fail(w, r, http.StatusForbidden, "This form has expired or was not sent from the console; reload the page and try again.")
		return false
	}
	return true
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "signin", view{Title: "Sign in", Data: c.providerNames(r.Context())})
}

// providerNames are the identity providers the sign-in page offers: the operators' on the
// operators' console, the members' (named by member) on the partners'.
func (c *Console) providerNames(ctx context.Context) []string {
	if c.members == nil || c.baseURL == "" {
		return c.order
	}
	ps, err := c.members(ctx)
	if err != nil {
		c.log.ErrorContext(ctx, "console: list the members' identity providers", "err", err)
		return nil
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}

// relyingParty returns the console's side of the provider named: an operators' provider from the
// hub's configuration, or a member's as it is set on the member now, with its secret read again.
func (c *Console) relyingParty(ctx context.Context, name string) (*relyingParty, error) {
	if rp, ok := c.providers[name]; ok {
		return rp, nil
	}
	if c.members == nil || c.baseURL == "" {
		return nil, nil
	}
	ps, err := c.members(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Name != name {
			continue
		}
		if err := p.Check(); err != nil {
			return nil, err
		}
		c.rpMu.Lock()
		defer c.rpMu.Unlock()
		if rp, ok := c.rps[name]; ok && rp.cfg == p {
			return rp, nil
		}
		rp := &relyingParty{cfg: p, client: c.client, redirect: c.baseURL + Prefix + "oidc/callback"}
		c.rps[name] = rp
		return rp, nil
	}
	return nil, nil
}

func (c *Console) signInWithToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	var sess session
	if c.operators() {
		name, id, err := c.auth.VerifyOperator(r.Context(), "Bearer "+token)
		if err != nil {
			c.refuseSignIn(w, r, err)
			return
		}
		sess = session{operator: name, tokenID: id, roles: roles{operator: true}}
	} else {
		p, err := c.auth.Partner(r.Context(), "Bearer "+token)
		if err != nil {
			c.refuseSignIn(w, r, err)
			return
		}
		// A token speaks for its member as a whole: its holder may do all a member's token may.
		sess = session{member: p.MemberID, tokenID: p.TokenID, roles: roles{analyst: true, memberAdmin: true, reviewer: p.Reviewer}}
	}
	c.signIn(w, r, sess)
}

func (c *Console) refuseSignIn(w http.ResponseWriter, r *http.Request, err error) {
	var ce *auth.CredentialError
	if !errors.As(err, &ce) {
		c.failWith(w, r, err)
		return
	}
	c.log.InfoContext(r.Context(), "console: sign-in refused", "reason", ce.Reason)
	c.render(w, http.StatusUnauthorized, "signin", view{Title: "Sign in", Data: c.providerNames(r.Context()),
		Message: "The hub does not accept this token: " + ce.Reason + "."})
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request, sess session) {
	// A sign-in always opens a new session, and ends the one the browser held: no id chosen or
	// seen before the sign-in is ever signed in.
	if old, _, ok := c.current(r); ok {
		c.sessions.end(old)
	}
	id := c.sessions.open(sess)
	c.setCookie(w, sessionCookie, id, 0, http.SameSiteStrictMode)
	c.log.InfoContext(r.Context(), "console: signed in", "who", sess.who(), "member", sess.member, "operator", sess.operator)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := c.current(r)
	if ok {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if !c.checkCSRF(w, r, sess) {
			return
		}
		c.sessions.end(id)
	}
	c.setCookie(w, sessionCookie, "", -1, http.SameSiteStrictMode)
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}

func (c *Console) startOIDC(w http.ResponseWriter, r *http.Request) {
	rp, err := c.relyingParty(r.Context(), r.PathValue("provider"))
	if err != nil {
		c.log.ErrorContext(r.Context(), "console: identity provider", "provider", r.PathValue("provider"), "err", err)
		c.fail(w, r, http.StatusBadGateway, "This identity provider is not usable now; the operators have the details in the hub's log.")
		return
	}
	if rp == nil {
		c.fail(w, r, http.StatusNotFound, "There is no such identity provider.")
		return
	}
	login := pendingLogin{provider: rp.cfg.Name, nonce: randomToken(), verifier: randomToken() + randomToken()}
	state := c.sessions.startLogin(login)
	to, err := rp.authURL(r.Context(), state, login)
	if err != nil {
		c.log.ErrorContext(r.Context(), "console: identity provider unreachable", "provider", rp.cfg.Name, "err", err)
		c.fail(w, r, http.StatusBadGateway, "The identity provider "+rp.cfg.Name+" cannot be reached; try again later or sign in with a token.")
		return
	}
	c.setCookie(w, loginCookie, state, int(pendingLoginTTL/time.Second), http.SameSiteLaxMode)
	http.Redirect(w, r, to, http.StatusFound)
}

func (c *Console) finishOIDC(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ck, err := r.Cookie(c.cookieName(loginCookie))
	c.setCookie(w, loginCookie, "", -1, http.SameSiteLaxMode)
	// The state must be the one this browser was sent off with: a code delivered to another
	// browser (login CSRF) is refused.
	if err != nil || !sameToken(ck.Value, q.Get("state")) {
		c.fail(w, r, http.StatusBadRequest, "This sign-in was not started in this browser; start again.")
		return
	}
	login, ok := c.sessions.finishLogin(q.Get("state"))
	if !ok {
		c.fail(w, r, http.StatusBadRequest, "This sign-in has expired or was already used; start again.")
		return
	}
	if e := q.Get("error"); e != "" {
		c.fail(w, r, http.StatusUnauthorized, "The identity provider did not sign you in ("+e+").")
		return
	}
	rp, err := c.relyingParty(r.Context(), login.provider)
	if err != nil || rp == nil {
		c.log.WarnContext(r.Context(), "console: identity provider gone during sign-in", "provider", login.provider, "err", err)
		c.fail(w, r, http.StatusBadGateway, "This identity provider is not usable now; start again.")
		return
	}
	id, err := rp.exchange(r.Context(), q.Get("code"), login)
	if err != nil {
		c.log.WarnContext(r.Context(), "console: sign-in failed", "provider", rp.cfg.Name, "err", err)
		c.fail(w, r, http.StatusUnauthorized, "The identity provider's answer could not be verified; start again.")
		return
	}
	person := store.Person{Issuer: id.issuer, Subject: id.subject, Name: cmp.Or(id.name, id.subject)}
	rs := rolesOf(id.roles)
	sess := session{person: person, roles: rs}
	if rp.cfg.Operators {
		if !rs.operator {
			c.fail(w, r, http.StatusForbidden, "Your identity provider does not give you the operator role.")
			return
		}
		sess.operator = rp.cfg.Name
	} else {
		// The provider is trusted for its own member's people only: the member comes from the
		// hub's configuration, never from anything the provider or the person says.
		rs.operator = false
		sess.roles = rs
		if !rs.analyst && !rs.reviewer && !rs.memberAdmin {
			c.fail(w, r, http.StatusForbidden, "Your identity provider gives you none of the console's roles (analyst, reviewer, member-admin).")
			return
		}
		sess.member = rp.cfg.Member
	}
	c.signIn(w, r, sess)
}

// signedIn wraps a page that needs a session: without one, the browser goes to the sign-in page.
func (c *Console) signedIn(h func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, sess, ok := c.current(r)
		if !ok {
			http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
			return
		}
		// The token that opened the session must still be valid: revoking it signs its holder out.
		if sess.tokenID != "" {
			var err error
			if c.operators() {
				_, err = c.auth.ResumeOperator(r.Context(), sess.tokenID, c.now())
			} else {
				var p auth.Principal
				p, err = c.auth.ResumePartner(r.Context(), sess.tokenID, c.now())
				// Kept for principal, so that a page reads the token's record once, not twice.
				r = r.WithContext(context.WithValue(r.Context(), resumedPartner{}, p))
			}
			var ce *auth.CredentialError
			if errors.As(err, &ce) {
				c.sessions.end(id)
				c.render(w, http.StatusUnauthorized, "signin", view{Title: "Sign in", Data: c.providerNames(r.Context()),
					Message: "You were signed out: " + ce.Reason + "."})
				return
			}
			if err != nil {
				c.failWith(w, r, err)
				return
			}
		}
		if r.Method == http.MethodPost {
			limit := int64(maxForm)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				select {
				case c.publishing <- struct{}{}:
					defer func() { <-c.publishing }()
				default:
					w.Header().Set("Retry-After", "5")
					c.fail(w, r, http.StatusServiceUnavailable, "The hub is reading other submissions; try again in a few seconds.")
					return
				}
				limit += c.maxBody
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if !c.checkCSRF(w, r, sess) {
				return
			}
		}
		h(w, r, sess)
	}
}

// asPartner wraps a partners' page that acts as the session's partner: the principal is resolved
// once, here, instead of at the top of every such page.
func (c *Console) asPartner(h func(http.ResponseWriter, *http.Request, session, auth.Principal)) func(http.ResponseWriter, *http.Request, session) {
	return func(w http.ResponseWriter, r *http.Request, sess session) {
		p, err := c.principal(r, sess)
		if err != nil {
			c.failWith(w, r, err)
			return
		}
		h(w, r, sess, p)
	}
}

// resumedPartner keys the partner signedIn resumed from the session's token in its request's
// context.
type resumedPartner struct{}

// principal is the partner the session acts as, with its grants as they are now.
func (c *Console) principal(r *http.Request, sess session) (auth.Principal, error) {
	if sess.tokenID != "" {
		p, resumed := r.Context().Value(resumedPartner{}).(auth.Principal)
		var err error
		if !resumed {
			p, err = c.auth.ResumePartner(r.Context(), sess.tokenID, c.now())
		}
		// A partner token speaks for its member as a whole, its member admin included.
		p.MemberAdmin = sess.roles.memberAdmin
		return p, err
	}
	p, err := c.auth.Member(r.Context(), sess.member, sess.person)
	// A person's roles come from their member's identity provider, trusted for its own people: the
	// reviewer role is to the review use case what a reviewer token's record is.
	p.Reviewer = sess.roles.reviewer
	p.MemberAdmin = sess.roles.memberAdmin
	return p, err
}

func (c *Console) page(sess session, title string, data any) view {
	return view{Title: title, Signed: true, Who: sess.who(), CSRF: sess.csrf, Roles: sess.roles, Data: data}
}
