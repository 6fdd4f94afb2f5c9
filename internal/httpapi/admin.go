package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/admin"
)

// Admin is the operator service the admin API exposes.
type Admin interface {
	CreatePartnership(ctx context.Context, actor string, p admin.Partnership) (admin.Partnership, error)
	Partnerships(ctx context.Context) ([]admin.Partnership, error)
	Partnership(ctx context.Context, slug string) (admin.PartnershipDetail, error)
	DeletePartnership(ctx context.Context, actor, slug string) (admin.Change, error)

	CreateCollection(ctx context.Context, actor string, c admin.Collection) (admin.Collection, error)
	Collections(ctx context.Context, slug string) ([]admin.Collection, error)
	DeleteCollection(ctx context.Context, actor, slug, ref string) (admin.Change, error)

	AddMember(ctx context.Context, actor string, m admin.Member) (admin.Member, error)
	Members(ctx context.Context) ([]admin.Member, error)
	RemoveMember(ctx context.Context, actor, id string) (admin.Change, error)

	PutGrant(ctx context.Context, actor string, g admin.Grant) (admin.GrantResult, error)
	RemoveGrant(ctx context.Context, actor, memberID, slug, ref string) (admin.Change, error)
	TransferOwnership(ctx context.Context, actor string, t admin.OwnershipTransfer) (admin.OwnershipResult, error)
	DeleteObject(ctx context.Context, actor, slug, ref, objectID string) (admin.Change, error)

	IssueToken(ctx context.Context, actor string, r admin.TokenRequest) (admin.IssuedToken, error)
	Tokens(ctx context.Context, f admin.TokenFilter) ([]admin.Token, error)
	Token(ctx context.Context, id string) (admin.Token, error)
	RevokeToken(ctx context.Context, actor, id string) (admin.Token, error)

	Keys(ctx context.Context) ([]admin.Key, error)
	RotateKey(ctx context.Context, actor string) (admin.Key, error)
	RetireKey(ctx context.Context, actor, kid string) (admin.Key, error)

	SetPartnershipPolicy(ctx context.Context, actor, slug string, p admin.PartnershipPolicy, confirmWeaken bool) (admin.Partnership, error)
	PatchPartnershipPolicy(ctx context.Context, actor, slug string, patch admin.Patch, confirmWeaken bool) (admin.Partnership, error)
	SetCollectionPolicy(ctx context.Context, actor, slug, ref string, p admin.CollectionPolicy, confirmWeaken bool) (admin.Collection, error)
	PatchCollectionPolicy(ctx context.Context, actor, slug, ref string, patch admin.Patch, confirmWeaken bool) (admin.Collection, error)
	PutMembership(ctx context.Context, actor string, m admin.Membership, confirmWeaken bool) (admin.MembershipResult, error)
	PatchMembership(ctx context.Context, actor, memberID, slug string, patch admin.Patch, confirmWeaken bool) (admin.MembershipResult, error)
	RemoveMembership(ctx context.Context, actor, memberID, slug string, confirmWeaken bool) (admin.Change, error)
	Memberships(ctx context.Context, slug string) ([]admin.Membership, error)

	Apply(ctx context.Context, actor string, spec admin.Spec, dryRun, confirmWeaken bool) (admin.ApplyResult, error)
	Audit(ctx context.Context, after int64, limit int) ([]admin.AuditEntry, error)
	RecentAudit(ctx context.Context, since time.Time, limit int) ([]admin.AuditEntry, error)

	Ledger(ctx context.Context, after int64, limit int) ([]admin.LedgerEntry, error)
	VerifyLedger(ctx context.Context) (admin.LedgerVerification, error)
	VerifyDeep(ctx context.Context, q admin.DeepQuery) (admin.DeepVerification, error)
	Heads(ctx context.Context) (admin.Heads, error)
	Pulls(ctx context.Context, q admin.PullQuery) (admin.PullPage, error)

	Backup(ctx context.Context, actor string) (admin.Backup, error)
	Sweep(ctx context.Context, actor string) (admin.SweepReport, error)
	Export(ctx context.Context, actor string, w io.Writer) (admin.ExportResult, error)
	Import(ctx context.Context, actor string, r io.Reader) (admin.ImportResult, error)
}

// OperatorAuthenticator turns an Authorization header into the name of an operator.
type OperatorAuthenticator interface {
	Operator(ctx context.Context, authorization string) (string, error)
}

// AdminMediaType is the content type of every admin API answer and the one its bodies must have.
const AdminMediaType = "application/json"

// maxAdminBody bounds admin request bodies; the largest, an apply spec, is a few kilobytes.
const maxAdminBody = 4 << 20

// defaultAuditPage is how many audit entries GET /admin/audit returns without a limit.
const defaultAuditPage = 100

// mountAdmin serves the operator API under /admin/ when the hub has an operator service. Only
// operator tokens open it: their audience differs from partner tokens', so neither kind of token
// opens the other API.
func (a *api) mountAdmin(e *gin.Engine) {
	if a.admin == nil {
		return
	}
	if a.operators == nil {
		panic("httpapi: Config.Admin is set without Config.Operators to authenticate its callers")
	}
	h := adminAPI{svc: a.admin, log: a.log}
	// Answers are kept out of caches (some carry freshly issued tokens) by protectAnswers, as all are.
	g := e.Group("/admin", a.authenticateOperator)
	route(g, http.MethodGet, "/partnerships/", h.handle(h.listPartnerships))
	route(g, http.MethodPost, "/partnerships/", h.handle(h.createPartnership))
	route(g, http.MethodGet, "/partnerships/:slug/", h.handle(h.showPartnership))
	route(g, http.MethodDelete, "/partnerships/:slug/", h.handle(h.deletePartnership))
	route(g, http.MethodGet, "/partnerships/:slug/collections/", h.handle(h.listCollections))
	route(g, http.MethodPost, "/partnerships/:slug/collections/", h.handle(h.createCollection))
	route(g, http.MethodDelete, "/partnerships/:slug/collections/:collection/", h.handle(h.deleteCollection))
	route(g, http.MethodPut, "/partnerships/:slug/collections/:collection/grants/:member/", h.handle(h.putGrant))
	route(g, http.MethodDelete, "/partnerships/:slug/collections/:collection/grants/:member/", h.handle(h.removeGrant))
	route(g, http.MethodPost, "/partnerships/:slug/ownership/", h.handle(h.transferOwnership))
	route(g, http.MethodDelete, "/partnerships/:slug/collections/:collection/objects/:object/", h.handle(h.deleteObject))
	route(g, http.MethodGet, "/members/", h.handle(h.listMembers))
	route(g, http.MethodPost, "/members/", h.handle(h.addMember))
	route(g, http.MethodDelete, "/members/:member/", h.handle(h.removeMember))
	route(g, http.MethodGet, "/tokens/", h.handle(h.listTokens))
	route(g, http.MethodPost, "/tokens/", h.handle(h.issueToken))
	route(g, http.MethodGet, "/tokens/:token/", h.handle(h.showToken))
	route(g, http.MethodPost, "/tokens/:token/revoke/", h.handle(h.revokeToken))
	route(g, http.MethodGet, "/keys/", h.handle(h.listKeys))
	route(g, http.MethodPost, "/keys/rotate/", h.handle(h.rotateKey))
	route(g, http.MethodPost, "/keys/:kid/retire/", h.handle(h.retireKey))
	route(g, http.MethodPost, "/apply/", h.handle(h.apply))
	route(g, http.MethodGet, "/audit/", h.handle(h.audit))
	h.mountRules(g)
}

const operatorKey = "operator"

// authenticateOperator admits only operator tokens.
func (a *api) authenticateOperator(c *gin.Context) {
	name, err := a.operators.Operator(c.Request.Context(), c.GetHeader("Authorization"))
	if err != nil {
		writeAdminError(c, a.log, err)
		c.Abort()
		return
	}
	c.Set(operatorKey, name)
	c.Next()
}

// adminAPI holds the admin handlers.
type adminAPI struct {
	svc Admin
	log *slog.Logger
}

func (h adminAPI) handle(fn func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			writeAdminError(c, h.log, err)
		}
	}
}

// actor is the operator making the request, as the audit trail names them.
func actor(c *gin.Context) string { return c.GetString(operatorKey) }

// adminErrorResource is the admin API's error body: the fields of a TAXII error resource, with the
// problems of an invalid request listed in details.
type adminErrorResource struct {
	Title       string        `json:"title"`
	Description string        `json:"description,omitempty"`
	ErrorID     string        `json:"error_id,omitempty"`
	ErrorCode   string        `json:"error_code,omitempty"`
	HTTPStatus  string        `json:"http_status,omitempty"`
	Details     *adminDetails `json:"details,omitempty"`
}

type adminDetails struct {
	Problems []string `json:"problems"`
}

// writeAdminError is writeError for the admin API: the same classification, as JSON.
func writeAdminError(c *gin.Context, log *slog.Logger, err error) {
	err = refuseFailure(c, err)
	cl, description := classify(err)
	id := requestID(c)
	if cl.status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="taxiihub-admin"`)
	}
	if cl.status >= http.StatusInternalServerError {
		log.ErrorContext(c.Request.Context(), "request failed", "status", cl.status, "error", err)
	}
	body := adminErrorResource{Title: cl.title, Description: description, ErrorID: id, ErrorCode: cl.code,
		HTTPStatus: strconv.Itoa(cl.status)}
	var ae *admin.Error
	if errors.As(err, &ae) && len(ae.Problems) > 0 {
		body.Details = &adminDetails{Problems: ae.Problems}
	}
	writeAdminJSON(c, cl.status, body)
}

// sentence makes an operator-service message read as a description: capitalised, with a full stop.
func sentence(msg string) string {
	r, size := utf8.DecodeRuneInString(msg)
	if size == 0 {
		return ""
	}
	msg = string(unicode.ToUpper(r)) + msg[size:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

func writeAdminJSON(c *gin.Context, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Admin answers are plain structs of strings, numbers, times and lists.
		panic(fmt.Sprintf("httpapi: encode %T: %v", v, err))
	}
	c.Data(status, AdminMediaType, body)
}

// decodeAdminBody reads a JSON body into v. Unknown fields are refused, so a misspelt field fails
// loudly instead of being dropped.
func decodeAdminBody(c *gin.Context, v any) error {
	mediaType, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mediaType != AdminMediaType {
		return &requestError{status: http.StatusUnsupportedMediaType, code: "unsupported-media-type",
			title: "Unsupported media type", description: "Send the body as " + AdminMediaType + "."}
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	if err != nil {
		// The decoder's message names a field or an offset, never anything the hub holds.
		return &requestError{status: http.StatusBadRequest, code: "invalid-json", title: "Invalid JSON",
			description: "The body is not what this endpoint takes: " + err.Error() + ".", cause: err}
	}
	return nil
}

func badQuery(param, reason string) error {
	return &requestError{status: http.StatusBadRequest, code: "invalid-parameter", title: "Invalid parameter",
		description: "The " + param + " parameter " + reason + "."}
}

func (h adminAPI) listPartnerships(c *gin.Context) error {
	ps, err := h.svc.Partnerships(c.Request.Context())
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, struct {
		Partnerships []admin.Partnership `json:"partnerships"`
	}{nonNil(ps)})
	return nil
}

func (h adminAPI) createPartnership(c *gin.Context) error {
	var p admin.Partnership
	if err := decodeAdminBody(c, &p); err != nil {
		return err
	}
	created, err := h.svc.CreatePartnership(c.Request.Context(), actor(c), p)
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusCreated, created)
	return nil
}

func (h adminAPI) showPartnership(c *gin.Context) error {
	d, err := h.svc.Partnership(c.Request.Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, d)
	return nil
}

func (h adminAPI) deletePartnership(c *gin.Context) error {
	ch, err := h.svc.DeletePartnership(c.Request.Context(), actor(c), c.Param("slug"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, ch)
	return nil
}

func (h adminAPI) listCollections(c *gin.Context) error {
	cs, err := h.svc.Collections(c.Request.Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, struct {
		Collections []admin.Collection `json:"collections"`
	}{nonNil(cs)})
	return nil
}

func (h adminAPI) createCollection(c *gin.Context) error {
	var coll admin.Collection
	if err := decodeAdminBody(c, &coll); err != nil {
		return err
	}
	slug := c.Param("slug")
	if coll.Partnership != "" && coll.Partnership != slug {
		return &admin.Error{Kind: admin.Invalid, Message: "the body names partnership " + coll.Partnership + " but the path " + slug}
	}
	coll.Partnership = slug
	created, err := h.svc.CreateCollection(c.Request.Context(), actor(c), coll)
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusCreated, created)
	return nil
}

func (h adminAPI) deleteCollection(c *gin.Context) error {
	ch, err := h.svc.DeleteCollection(c.Request.Context(), actor(c), c.Param("slug"), c.Param("collection"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, ch)
	return nil
}

func (h adminAPI) putGrant(c *gin.Context) error {
	var body struct {
		Read  bool `json:"read"`
		Write bool `json:"write"`
	}
	if err := decodeAdminBody(c, &body); err != nil {
		return err
	}
	res, err := h.svc.PutGrant(c.Request.Context(), actor(c), admin.Grant{Member: c.Param("member"),
		Partnership: c.Param("slug"), Collection: c.Param("collection"), Read: body.Read, Write: body.Write})
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, res)
	return nil
}

func (h adminAPI) removeGrant(c *gin.Context) error {
	ch, err := h.svc.RemoveGrant(c.Request.Context(), actor(c), c.Param("member"), c.Param("slug"), c.Param("collection"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, ch)
	return nil
}

func (h adminAPI) transferOwnership(c *gin.Context) error {
	var body admin.OwnershipTransfer
	if err := decodeAdminBody(c, &body); err != nil {
		return err
	}
	body.Partnership = c.Param("slug")
	res, err := h.svc.TransferOwnership(c.Request.Context(), actor(c), body)
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, res)
	return nil
}

func (h adminAPI) deleteObject(c *gin.Context) error {
	ch, err := h.svc.DeleteObject(c.Request.Context(), actor(c), c.Param("slug"), c.Param("collection"), c.Param("object"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, ch)
	return nil
}

func (h adminAPI) listMembers(c *gin.Context) error {
	ms, err := h.svc.Members(c.Request.Context())
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, struct {
		Members []admin.Member `json:"members"`
	}{nonNil(ms)})
	return nil
}

func (h adminAPI) addMember(c *gin.Context) error {
	var m admin.Member
	if err := decodeAdminBody(c, &m); err != nil {
		return err
	}
	added, err := h.svc.AddMember(c.Request.Context(), actor(c), m)
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusCreated, added)
	return nil
}

func (h adminAPI) removeMember(c *gin.Context) error {
	ch, err := h.svc.RemoveMember(c.Request.Context(), actor(c), c.Param("member"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, ch)
	return nil
}

func (h adminAPI) listTokens(c *gin.Context) error {
	q := c.Request.URL.Query()
	ts, err := h.svc.Tokens(c.Request.Context(), admin.TokenFilter{Subject: q.Get("subject"), Kind: q.Get("kind")})
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, struct {
		Tokens []admin.Token `json:"tokens"`
	}{nonNil(ts)})
	return nil
}

func (h adminAPI) issueToken(c *gin.Context) error {
	var r admin.TokenRequest
	if err := decodeAdminBody(c, &r); err != nil {
		return err
	}
	issued, err := h.svc.IssueToken(c.Request.Context(), actor(c), r)
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusCreated, issued)
	return nil
}

func (h adminAPI) showToken(c *gin.Context) error {
	t, err := h.svc.Token(c.Request.Context(), c.Param("token"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, t)
	return nil
}

func (h adminAPI) revokeToken(c *gin.Context) error {
	t, err := h.svc.RevokeToken(c.Request.Context(), actor(c), c.Param("token"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, t)
	return nil
}

func (h adminAPI) listKeys(c *gin.Context) error {
	ks, err := h.svc.Keys(c.Request.Context())
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, struct {
		Keys []admin.Key `json:"keys"`
	}{nonNil(ks)})
	return nil
}

func (h adminAPI) rotateKey(c *gin.Context) error {
	k, err := h.svc.RotateKey(c.Request.Context(), actor(c))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, k)
	return nil
}

func (h adminAPI) retireKey(c *gin.Context) error {
	k, err := h.svc.RetireKey(c.Request.Context(), actor(c), c.Param("kid"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, k)
	return nil
}

func (h adminAPI) apply(c *gin.Context) error {
	dryRun, err := boolParam(c, "dry_run")
	if err != nil {
		return err
	}
	confirm, err := boolParam(c, confirmWeakenParam)
	if err != nil {
		return err
	}
	var spec admin.Spec
	if err := decodeAdminBody(c, &spec); err != nil {
		return err
	}
	res, err := h.svc.Apply(c.Request.Context(), actor(c), spec, dryRun, confirm)
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, res)
	return nil
}

func (h adminAPI) audit(c *gin.Context) error {
	after, limit, err := pageParams(c, admin.MaxAuditPage)
	if err != nil {
		return err
	}
	newest, err := boolParam(c, "newest")
	if err != nil {
		return err
	}
	var entries []admin.AuditEntry
	if newest {
		if c.Query("after") != "" {
			return badQuery("after", "pages the trail oldest first and cannot be combined with newest")
		}
		since, err := timeParam(c, "since")
		if err != nil {
			return err
		}
		entries, err = h.svc.RecentAudit(c.Request.Context(), since, limit)
		if err != nil {
			return err
		}
	} else if entries, err = h.svc.Audit(c.Request.Context(), after, limit); err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, struct {
		Entries []admin.AuditEntry `json:"entries"`
	}{nonNil(entries)})
	return nil
}

// pageParams reads after (a sequence number, default 0) and limit (default defaultAuditPage, at
// most maxLimit).
func pageParams(c *gin.Context, maxLimit int) (after int64, limit int, err error) {
	q := c.Request.URL.Query()
	after, limit = 0, min(defaultAuditPage, maxLimit)
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, badQuery("after", "must be a sequence number")
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return 0, 0, badQuery("limit", fmt.Sprintf("must be a number from 1 to %d", maxLimit))
		}
		limit = n
	}
	return after, limit, nil
}

func boolParam(c *gin.Context, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badQuery(name, "must be true or false")
	}
	return b, nil
}

// nonNil makes empty lists encode as [] rather than null, which scripts find easier to handle.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// mountRules serves the sharing rules (policies and memberships) and the ledger.
func (h adminAPI) mountRules(g *gin.RouterGroup) {
	route(g, http.MethodPut, "/partnerships/:slug/policy/", h.handle(h.setPartnershipPolicy))
	route(g, http.MethodPatch, "/partnerships/:slug/policy/", h.handle(h.patchPartnershipPolicy))
	route(g, http.MethodPut, "/partnerships/:slug/collections/:collection/policy/", h.handle(h.setCollectionPolicy))
	route(g, http.MethodPatch, "/partnerships/:slug/collections/:collection/policy/", h.handle(h.patchCollectionPolicy))
	route(g, http.MethodGet, "/partnerships/:slug/memberships/", h.handle(h.listMemberships))
	route(g, http.MethodPut, "/partnerships/:slug/memberships/:member/", h.handle(h.putMembership))
	route(g, http.MethodPatch, "/partnerships/:slug/memberships/:member/", h.handle(h.patchMembership))
	route(g, http.MethodDelete, "/partnerships/:slug/memberships/:member/", h.handle(h.removeMembership))
	route(g, http.MethodGet, "/ledger/", h.handle(h.ledger))
	route(g, http.MethodGet, "/ledger/verify/", h.handle(h.verifyLedger))
	route(g, http.MethodGet, "/ledger/verify/deep/", h.handle(h.verifyDeep))
	route(g, http.MethodGet, "/ledger/heads/", h.handle(h.heads))
	route(g, http.MethodPost, "/backup/", h.handle(h.backup))
	route(g, http.MethodPost, "/sweep/", h.handle(h.sweep))
	route(g, http.MethodPost, "/export/", h.handle(h.export))
	route(g, http.MethodPost, "/import/", h.handle(h.importHub))
	route(g, http.MethodGet, "/ledger/pulls/", h.handle(h.pulls))
}

// confirmWeakenParam confirms a change that weakens sharing rules; without it such a change is
// refused (409 weakens-rules), naming each weakening.
const confirmWeakenParam = "confirm_weaken"

// ruleChange reads a rule change's confirmation and body, makes the change, and writes its result.
func ruleChange[T, R any](c *gin.Context, change func(ctx context.Context, body T, confirm bool) (R, error)) error {
	confirm, err := boolParam(c, confirmWeakenParam)
	if err != nil {
		return err
	}
	var body T
	if err := decodeAdminBody(c, &body); err != nil {
		return err
	}
	res, err := change(c.Request.Context(), body, confirm)
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, res)
	return nil
}

func (h adminAPI) setPartnershipPolicy(c *gin.Context) error {
	return ruleChange(c, func(ctx context.Context, p admin.PartnershipPolicy, confirm bool) (admin.Partnership, error) {
		return h.svc.SetPartnershipPolicy(ctx, actor(c), c.Param("slug"), p, confirm)
	})
}

// patchPartnershipPolicy takes a JSON merge patch (RFC 7396): the rules it names change, null
// clears one, and the others stay.
func (h adminAPI) patchPartnershipPolicy(c *gin.Context) error {
	return ruleChange(c, func(ctx context.Context, p admin.Patch, confirm bool) (admin.Partnership, error) {
		return h.svc.PatchPartnershipPolicy(ctx, actor(c), c.Param("slug"), p, confirm)
	})
}

func (h adminAPI) setCollectionPolicy(c *gin.Context) error {
	return ruleChange(c, func(ctx context.Context, p admin.CollectionPolicy, confirm bool) (admin.Collection, error) {
		return h.svc.SetCollectionPolicy(ctx, actor(c), c.Param("slug"), c.Param("collection"), p, confirm)
	})
}

func (h adminAPI) patchCollectionPolicy(c *gin.Context) error {
	return ruleChange(c, func(ctx context.Context, p admin.Patch, confirm bool) (admin.Collection, error) {
		return h.svc.PatchCollectionPolicy(ctx, actor(c), c.Param("slug"), c.Param("collection"), p, confirm)
	})
}

func (h adminAPI) patchMembership(c *gin.Context) error {
	return ruleChange(c, func(ctx context.Context, p admin.Patch, confirm bool) (admin.MembershipResult, error) {
		return h.svc.PatchMembership(ctx, actor(c), c.Param("member"), c.Param("slug"), p, confirm)
	})
}

func (h adminAPI) listMemberships(c *gin.Context) error {
	ms, err := h.svc.Memberships(c.Request.Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, struct {
		Memberships []admin.Membership `json:"memberships"`
	}{nonNil(ms)})
	return nil
}

type membershipBody struct {
	Role      string `json:"role"`
	Clearance string `json:"clearance"`
}

func (h adminAPI) putMembership(c *gin.Context) error {
	return ruleChange(c, func(ctx context.Context, body membershipBody, confirm bool) (admin.MembershipResult, error) {
		return h.svc.PutMembership(ctx, actor(c), admin.Membership{Member: c.Param("member"),
			Partnership: c.Param("slug"), Role: body.Role, Clearance: body.Clearance}, confirm)
	})
}

func (h adminAPI) removeMembership(c *gin.Context) error {
	confirm, err := boolParam(c, confirmWeakenParam)
	if err != nil {
		return err
	}
	ch, err := h.svc.RemoveMembership(c.Request.Context(), actor(c), c.Param("member"), c.Param("slug"), confirm)
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, ch)
	return nil
}

func (h adminAPI) ledger(c *gin.Context) error {
	after, limit, err := pageParams(c, admin.MaxLedgerPage)
	if err != nil {
		return err
	}
	entries, err := h.svc.Ledger(c.Request.Context(), after, limit)
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, struct {
		Entries []admin.LedgerEntry `json:"entries"`
	}{nonNil(entries)})
	return nil
}

// verifyLedger answers 200 whether or not the chain holds: the check itself succeeded, and its
// result, ok or the first broken entry, is the answer.
// sweep purges at once what retention no longer keeps, as the hub's periodic sweep does.
func (h adminAPI) sweep(c *gin.Context) error {
	r, err := h.svc.Sweep(c.Request.Context(), actor(c))
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, r)
	return nil
}

func (h adminAPI) verifyLedger(c *gin.Context) error {
	v, err := h.svc.VerifyLedger(c.Request.Context())
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, v)
	return nil
}

// verifyDeep answers 200 whether or not the hub verifies, as verifyLedger does. ledger_at and
// audit_at are checkpoints (SEQ:HASH) copied out of the hub earlier.
func (h adminAPI) verifyDeep(c *gin.Context) error {
	q := c.Request.URL.Query()
	v, err := h.svc.VerifyDeep(c.Request.Context(), admin.DeepQuery{Ledger: q.Get("ledger_at"), Audit: q.Get("audit_at")})
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, v)
	return nil
}

// backup streams a consistent copy of the embedded database. The copy is taken within the request
// timeout; the answer is then written at the minimum transfer rate like any other.
func (h adminAPI) backup(c *gin.Context) error {
	b, err := h.svc.Backup(c.Request.Context(), actor(c))
	if err != nil {
		return err
	}
	defer func() {
		if err := b.Close(); err != nil {
			h.log.WarnContext(c.Request.Context(), "backup sent, but its copy stayed on the hub's disk", "error", err)
		}
	}()
	c.Header("Content-Length", strconv.FormatInt(b.Size, 10))
	c.Header("Content-Disposition", `attachment; filename="taxiihub-backup.db"`)
	c.Header(admin.BackupLedgerSeqHeader, strconv.FormatInt(b.LedgerSeq, 10))
	c.Header(admin.BackupLedgerHashHeader, b.LedgerHash)
	c.Header(admin.BackupSchemaHeader, strconv.Itoa(b.SchemaVersion))
	c.Header("Content-Type", admin.BackupMediaType)
	c.Status(http.StatusOK)
	if _, err := io.Copy(c.Writer, b); err != nil {
		// The status is sent: the operator sees a short file against Content-Length.
		h.log.WarnContext(c.Request.Context(), "backup cut off while being sent", "error", err)
	}
	return nil
}

func (h adminAPI) heads(c *gin.Context) error {
	heads, err := h.svc.Heads(c.Request.Context())
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, heads)
	return nil
}

func (h adminAPI) pulls(c *gin.Context) error {
	after, limit, err := pageParams(c, admin.MaxLedgerPage)
	if err != nil {
		return err
	}
	q := c.Request.URL.Query()
	page, err := h.svc.Pulls(c.Request.Context(), admin.PullQuery{Publisher: q.Get("publisher"),
		Partnership: q.Get("partnership"), After: after, Limit: limit})
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, page)
	return nil
}
