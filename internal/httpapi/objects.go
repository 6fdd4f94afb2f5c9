package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// setDateHeaders sends the first and last date added of a page. On an empty page they are left out:
// there is no date to give, and clients such as EclecticIQ break on placeholder values.
func setDateHeaders(c *gin.Context, p store.Page) {
	if first, ok := p.FirstAdded(); ok {
		c.Header("X-TAXII-Date-Added-First", taxii.FormatDateAdded(first))
	}
	if last, ok := p.LastAdded(); ok {
		c.Header("X-TAXII-Date-Added-Last", taxii.FormatDateAdded(last))
	}
}

func (a *api) manifest(c *gin.Context) error {
	coll, err := a.readableCollection(c)
	if err != nil {
		return err
	}
	q, err := taxii.ParseFilters(c.Request.URL.Query(), taxii.ObjectsEndpoint)
	if err != nil {
		return err
	}
	page, err := a.store.Manifest(c.Request.Context(), coll.ID, q)
	if err != nil {
		return fmt.Errorf("httpapi: manifest of %s: %w", coll.ID, err)
	}
	setDateHeaders(c, page)
	writeTAXII(c, http.StatusOK, taxii.NewManifest(page))
	return nil
}

func (a *api) getObjects(c *gin.Context) error {
	coll, err := a.readableCollection(c)
	if err != nil {
		return err
	}
	q, err := taxii.ParseFilters(c.Request.URL.Query(), taxii.ObjectsEndpoint)
	if err != nil {
		return err
	}
	page, err := a.store.Objects(c.Request.Context(), coll.ID, q)
	if err != nil {
		return fmt.Errorf("httpapi: objects of %s: %w", coll.ID, err)
	}
	setDateHeaders(c, page)
	writeTAXII(c, http.StatusOK, taxii.NewEnvelope(page))
	return nil
}

const noObject = "The collection holds no object with this id."

// objectExists tells a 404 (no such object) from a 200 with an empty page (filters matched nothing).
func (a *api) objectExists(c *gin.Context, collectionID, objectID string) (bool, error) {
	p, err := a.store.Manifest(c.Request.Context(), collectionID, store.Query{
		IDs: []string{objectID}, Limit: 1,
		VersionFilter: store.VersionFilter{Versions: store.VersionMatch{All: true}},
	})
	if err != nil {
		return false, fmt.Errorf("httpapi: look up %s: %w", objectID, err)
	}
	return len(p.Records) > 0, nil
}

func (a *api) getObject(c *gin.Context) error {
	page, err := a.objectPage(c, taxii.ObjectEndpoint, a.store.Objects)
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.NewEnvelope(page))
	return nil
}

func (a *api) versions(c *gin.Context) error {
	page, err := a.objectPage(c, taxii.VersionsEndpoint, a.store.Manifest)
	if err != nil {
		return err
	}
	writeTAXII(c, http.StatusOK, taxii.NewVersions(page))
	return nil
}

// objectPage reads a page about the one object named in the path, for the object and versions
// endpoints, and sets the date headers. An empty first page is a 404 when the collection holds no
// version of the object at all; otherwise it only means the filters matched nothing.
func (a *api) objectPage(c *gin.Context, endpoint taxii.Endpoint,
	read func(ctx context.Context, collectionID string, q store.Query) (store.Page, error)) (store.Page, error) {
	coll, err := a.readableCollection(c)
	if err != nil {
		return store.Page{}, err
	}
	q, err := taxii.ParseFilters(c.Request.URL.Query(), endpoint)
	if err != nil {
		return store.Page{}, err
	}
	q.IDs = []string{c.Param("object")}
	if endpoint == taxii.VersionsEndpoint {
		q.Versions = store.VersionMatch{All: true}
	}
	page, err := read(c.Request.Context(), coll.ID, q)
	if err != nil {
		return store.Page{}, fmt.Errorf("httpapi: read %s in %s: %w", c.Param("object"), coll.ID, err)
	}
	if len(page.Records) == 0 && q.Cursor == "" {
		exists, err := a.objectExists(c, coll.ID, c.Param("object"))
		if err != nil {
			return store.Page{}, err
		}
		if !exists {
			return store.Page{}, notFound(noObject)
		}
	}
	setDateHeaders(c, page)
	return page, nil
}

// deleteObject removes the versions selected by match[version] and match[spec_version]. Without
// match[version] that is the last version, as for every other TAXII filter; match[version]=all
// removes them all. It needs both rights, so a write-only publisher cannot probe for objects.
func (a *api) deleteObject(c *gin.Context) error {
	coll, r, err := a.visibleCollection(c)
	if err != nil {
		return err
	}
	if !r.read || !r.write {
		return forbidden("Deleting objects needs both read and write rights on the collection.")
	}
	q, err := taxii.ParseFilters(c.Request.URL.Query(), taxii.DeleteEndpoint)
	if err != nil {
		return err
	}
	n, err := a.store.DeleteVersions(c.Request.Context(), coll.ID, c.Param("object"), q.VersionFilter)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(noObject)
	}
	if err != nil {
		return fmt.Errorf("httpapi: delete %s: %w", c.Param("object"), err)
	}
	if n == 0 {
		return notFound("No version of the object matches the filters.")
	}
	c.Header("Content-Type", TAXIIMediaType)
	c.Status(http.StatusOK)
	return nil
}

func unsupportedMediaType() error {
	return &requestError{status: http.StatusUnsupportedMediaType, code: "unsupported-media-type",
		title:       "Unsupported media type",
		description: "Send the body as " + TAXIIMediaType + " (an envelope) or application/stix+json;version=2.1 (a bundle)."}
}

func tooLarge(description string) error {
	return &requestError{status: http.StatusRequestEntityTooLarge, code: "too-large", title: "Request too large", description: description}
}

// addObjects stores what passes the checker and reports every object in a status resource. The
// work is done before answering, so the status is complete at once; it is also kept for later reads.
func (a *api) addObjects(c *gin.Context) error {
	coll, r, err := a.visibleCollection(c)
	if err != nil {
		return err
	}
	if !r.write {
		return forbidden("Your credentials do not allow adding objects to this collection.")
	}
	if !acceptableBody(c.GetHeader("Content-Type")) {
		return unsupportedMediaType()
	}
	if c.Request.ContentLength > a.maxContentLength {
		return tooLarge(fmt.Sprintf("The body is %d bytes; this API root accepts at most %d (max_content_length).",
			c.Request.ContentLength, a.maxContentLength))
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, a.maxContentLength))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(fmt.Sprintf("The body exceeds %d bytes (max_content_length).", a.maxContentLength))
	}
	if err != nil {
		return &requestError{status: http.StatusBadRequest, code: "unreadable-body", title: "Unreadable body",
			description: "The request body could not be read completely.", cause: err}
	}
	raws, err := taxii.DecodeEnvelope(body, taxii.MaxObjectsPerEnvelope)
	if err != nil {
		return err
	}
	requested := a.now()
	sub := taxii.Judge(a.checker, raws)
	ctx := c.Request.Context()
	var outcomes []store.Outcome
	if accepted := sub.Accepted(); len(accepted) > 0 {
		outcomes, err = a.store.AddObjects(ctx, coll.ID, accepted)
		if err != nil {
			stored := 0
			for _, o := range outcomes {
				if o.Result.Stored() {
					stored++
				}
			}
			// Nothing stored: a plain failure the client retries. Some stored: the status says which.
			if stored == 0 {
				return fmt.Errorf("httpapi: add objects to %s: %w", coll.ID, err)
			}
			a.log.ErrorContext(ctx, "add objects partly failed", "request_id", requestID(c),
				"collection", coll.ID, "stored", stored, "error", err)
		}
	}
	st := sub.Status(uuid.NewString(), c.Param("root"), principal(c).MemberID, requested, outcomes)
	if err := a.store.SaveStatus(ctx, st); err != nil {
		// The objects are stored and this answer carries their status; only a later read of the
		// status resource is lost, which is no reason to make the client resubmit.
		a.log.ErrorContext(ctx, "save status", "request_id", requestID(c), "status_id", st.ID, "error", err)
	}
	writeTAXII(c, http.StatusAccepted, taxii.NewStatus(st))
	return nil
}
