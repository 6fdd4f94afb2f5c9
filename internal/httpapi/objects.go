package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/policy"
	"taxiihub/internal/sharing"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// The collection endpoints translate a request into one call of the sharing service and its result
// into a TAXII resource. What the caller may do is decided once, by access; the order of the checks
// (rights, then the query, then the body) is what the answers' statuses follow.

// access decides the caller's rights on the collection named in the path.
func (a *api) access(c *gin.Context) (sharing.Access, error) {
	return a.sharing.Access(c.Request.Context(), principal(c), c.Param("root"), c.Param("collection"))
}

// pageRead reads one page for a caller whose access is decided.
type pageRead func(ctx context.Context, acc sharing.Access, q store.Query) (store.Page, error)

// aboutObject binds a read of one object's page to the object named in the path.
func aboutObject(c *gin.Context, read func(context.Context, sharing.Access, string, store.Query) (store.Page, error)) pageRead {
	return func(ctx context.Context, acc sharing.Access, q store.Query) (store.Page, error) {
		return read(ctx, acc, c.Param("object"), q)
	}
}

// servePage answers a read of a page: objects, manifest, one object or its versions.
func servePage[R any](a *api, c *gin.Context, endpoint taxii.Endpoint, read pageRead, render func(store.Page) R) error {
	acc, err := a.access(c)
	if err != nil {
		return err
	}
	if err := acc.RequireRead(); err != nil {
		return err
	}
	q, err := taxii.ParseFilters(c.Request.URL.Query(), endpoint)
	if err != nil {
		return err
	}
	page, err := read(c.Request.Context(), acc, q)
	if err != nil {
		return err
	}
	// On an empty page the date headers are left out: there is no date to give, and clients such
	// as EclecticIQ break on placeholder values.
	if first, ok := page.FirstAdded(); ok {
		c.Header("X-TAXII-Date-Added-First", taxii.FormatDateAdded(first))
	}
	if last, ok := page.LastAdded(); ok {
		c.Header("X-TAXII-Date-Added-Last", taxii.FormatDateAdded(last))
	}
	writeTAXII(c, http.StatusOK, render(page))
	return nil
}

func (a *api) manifest(c *gin.Context) error {
	return servePage(a, c, taxii.ObjectsEndpoint, a.sharing.Manifest, taxii.NewManifest)
}

func (a *api) getObjects(c *gin.Context) error {
	return servePage(a, c, taxii.ObjectsEndpoint, a.sharing.Objects, taxii.NewEnvelope)
}

func (a *api) getObject(c *gin.Context) error {
	return servePage(a, c, taxii.ObjectEndpoint, aboutObject(c, a.sharing.Object), taxii.NewEnvelope)
}

func (a *api) versions(c *gin.Context) error {
	return servePage(a, c, taxii.VersionsEndpoint, aboutObject(c, a.sharing.Versions), taxii.NewVersions)
}

// deleteObject removes the versions selected by match[version] and match[spec_version]. Without
// match[version] that is the last version, as for every other TAXII filter; match[version]=all
// removes them all.
func (a *api) deleteObject(c *gin.Context) error {
	acc, err := a.access(c)
	if err != nil {
		return err
	}
	if err := acc.RequireDelete(); err != nil {
		return err
	}
	q, err := taxii.ParseFilters(c.Request.URL.Query(), taxii.DeleteEndpoint)
	if err != nil {
		return err
	}
	if err := a.sharing.Delete(c.Request.Context(), acc, c.Param("object"), q.VersionFilter); err != nil {
		return err
	}
	c.Header("Content-Type", TAXIIMediaType)
	c.Status(http.StatusOK)
	return nil
}

// addObjects publishes an envelope (or a bundle) and answers with its status: 202 once stored, or
// with dry_run=true 200 with the status the real request would get.
func (a *api) addObjects(c *gin.Context) error {
	acc, err := a.access(c)
	if err != nil {
		return err
	}
	if err := acc.RequireWrite(); err != nil {
		return err
	}
	dryRun, err := boolParam(c, "dry_run")
	if err != nil {
		return err
	}
	attest, err := attestParam(c)
	if err != nil {
		return err
	}
	if !acceptableBody(c.GetHeader("Content-Type")) {
		return &requestError{status: http.StatusUnsupportedMediaType, code: "unsupported-media-type",
			title:       "Unsupported media type",
			description: "Send the body as " + TAXIIMediaType + " (an envelope) or application/stix+json;version=2.1 (a bundle)."}
	}
	if c.Request.ContentLength > a.maxContentLength {
		return &requestError{status: http.StatusRequestEntityTooLarge, code: "too-large", title: "Request too large",
			description: fmt.Sprintf("The body is %d bytes; this API root accepts at most %d (max_content_length).",
				c.Request.ContentLength, a.maxContentLength)}
	}
	// Room in the hub's ingest budget is taken before the first byte is read, and kept until the
	// answer is written: the body, its objects and their status are what the budget stands for.
	release, err := a.reserveBody(c)
	if err != nil {
		return err
	}
	defer release()
	// Read once into one buffer of its declared length (checked above against max_content_length,
	// and reserved in the ingest budget), whose parts the objects are; a chunked body's buffer moves
	// once, to max_content_length, which the budget reserved for it.
	raws, err := taxii.ReadEnvelopeSized(http.MaxBytesReader(c.Writer, c.Request.Body, a.maxContentLength),
		c.Request.ContentLength, a.maxContentLength, taxii.MaxObjectsPerEnvelope)
	if err != nil {
		return err
	}
	ctx, cancel := a.afterTransfer(c.Request.Context())
	defer cancel()
	st, err := a.sharing.PublishWith(ctx, acc, raws, sharing.PublishOptions{DryRun: dryRun, AttestIndependent: attest})
	if err != nil {
		return err
	}
	code := http.StatusAccepted
	if dryRun {
		code = http.StatusOK
	}
	writeTAXII(c, code, taxii.NewStatus(st))
	return nil
}

// withdraw lets the publisher of an object withdraw it; the answer names the tombstone's version.
func (a *api) withdraw(c *gin.Context) error {
	acc, err := a.access(c)
	if err != nil {
		return err
	}
	version, err := a.sharing.Withdraw(c.Request.Context(), acc, c.Param("object"))
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.Versions{Versions: []string{store.FormatVersion(version)}})
	return nil
}

// attestParam reads the hub's extension x-taxiihub-attest=independent, by which a member declares
// that it holds the content it posts independently (see sharing.PublishOptions). A query parameter
// rather than a property, so that envelopes stay what every TAXII client sends; any other value is
// refused rather than ignored, so that a mistyped attestation is not taken for none.
func attestParam(c *gin.Context) (bool, error) {
	values, ok := c.Request.URL.Query()[policy.AttestParameter]
	if !ok {
		return false, nil
	}
	if len(values) != 1 || values[0] != policy.AttestIndependent {
		return false, &taxii.FilterError{Param: policy.AttestParameter, Reason: "must be given once, as " + policy.AttestIndependent}
	}
	return true, nil
}
