package taxii

import (
	"encoding/json"
	"time"

	"taxiihub/internal/store"
)

// The wire forms of TAXII 2.1 resources. Lists that the specification makes optional are still sent
// empty rather than left out where strict clients index into them.

// MediaType is the TAXII 2.1 media type, also listed in each API root's versions.
const MediaType = "application/taxii+json;version=2.1"

// STIXMediaType is the media type of the objects the hub stores.
const STIXMediaType = "application/stix+json;version=2.1"

// Discovery is the discovery resource.
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots"`
}

// APIRoot is the API root resource.
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
	// MaxObjectSize, a custom property, is the largest single object accepted, in bytes; a larger
	// one is refused alone with object-too-large.
	MaxObjectSize int64 `json:"x_taxiihub_max_object_size"`
}

// Collection is the collection resource, with the caller's own rights and the sharing rules the hub
// enforces on it. The rules are custom properties (TAXII 2.1 allows them on resources; clients that
// do not know them ignore them), so that client tooling can check an object before posting it:
//
//   - x_taxiihub_personal_data: what the partnership does with personal data: allow, reject or strip.
//   - x_taxiihub_no_onward_sharing: true when content received here may not be posted into another
//     partnership.
//   - x_taxiihub_jurisdictions: the only jurisdictions members may come from; absent when any.
//   - x_taxiihub_allowed_types: the only object types the collection accepts; absent when any.
//   - x_taxiihub_denied_properties: property names refused wherever they appear; absent when none.
//   - x_taxiihub_tlp_max: the highest TLP level accepted (clear, green, amber, amber+strict, red);
//     absent when there is no ceiling.
//   - x_taxiihub_unmarked: what becomes of an object without a TLP marking: clear (treated as
//     TLP:CLEAR) or refuse.
//   - x_taxiihub_allowed_properties: per object type, the only properties its objects may carry;
//     absent when any.
//   - x_taxiihub_review: who releases posted objects before readers see them: own-member or
//     partnership; absent when they are stored at once.
//   - x_taxiihub_review_timeout_seconds: how long a posted object waits for its review before it
//     expires; absent without review.
//   - x_taxiihub_reviewers: under partnership review, the members whose reviewers release posted
//     objects (the partnership's moderators); absent otherwise, and when none is named.
//   - x_taxiihub_retention_seconds: how long each object version is kept after its date added
//     before the hub purges it; absent when versions are kept for good.
//   - x_taxiihub_role: the caller's role in the partnership: publisher, reader or both.
//   - x_taxiihub_clearance: the highest TLP level the caller may read; absent when unlimited.
//   - x_taxiihub_direction: one-way when some members of the partnership only publish or only read,
//     two-way when all do both.
//
// can_read and can_write are the caller's grant narrowed by its role.
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`

	PersonalData      string              `json:"x_taxiihub_personal_data"`
	NoOnwardSharing   bool                `json:"x_taxiihub_no_onward_sharing"`
	Jurisdictions     []string            `json:"x_taxiihub_jurisdictions,omitempty"`
	AllowedTypes      []string            `json:"x_taxiihub_allowed_types,omitempty"`
	DeniedProperties  []string            `json:"x_taxiihub_denied_properties,omitempty"`
	TLPMax            string              `json:"x_taxiihub_tlp_max,omitempty"`
	Unmarked          string              `json:"x_taxiihub_unmarked"`
	AllowedProperties map[string][]string `json:"x_taxiihub_allowed_properties,omitempty"`
	Reviewers         []string            `json:"x_taxiihub_reviewers,omitempty"`
	Review            string              `json:"x_taxiihub_review,omitempty"`
	ReviewTimeout     int64               `json:"x_taxiihub_review_timeout_seconds,omitempty"`
	Retention         int64               `json:"x_taxiihub_retention_seconds,omitempty"`
	Role              string              `json:"x_taxiihub_role"`
	Clearance         string              `json:"x_taxiihub_clearance,omitempty"`
	Direction         string              `json:"x_taxiihub_direction"`
}

// Access is what one member may do with a collection.
type Access struct {
	// Read and Write are the member's grant, before its role narrows it.
	Read, Write bool
	Membership  store.Membership
	// OneWay reports that some member of the partnership only publishes or only reads.
	OneWay bool
}

// CanRead reports whether the member may read, once its role narrows its grant.
func (a Access) CanRead() bool { return a.Read && a.Membership.Role.CanRead() }

// CanWrite reports whether the member may write, once its role narrows its grant.
func (a Access) CanWrite() bool { return a.Write && a.Membership.Role.CanPublish() }

// NewCollection renders a stored collection of a partnership with the given policy, for a caller
// with the given access.
func NewCollection(c store.Collection, p store.PartnershipPolicy, a Access) Collection {
	media := c.MediaTypes
	if len(media) == 0 {
		media = []string{STIXMediaType}
	}
	personal := string(p.PersonalData)
	if p.PersonalData == store.PersonalDataAllow {
		personal = "allow"
	}
	unmarked := "clear"
	if c.Policy.Unmarked == store.UnmarkedRefuse {
		unmarked = "refuse"
	}
	var reviewTimeout int64
	if c.Policy.Review != store.ReviewNone {
		reviewTimeout = int64(c.Policy.EffectiveReviewTimeout() / time.Second)
	}
	var reviewers []string
	if c.Policy.Review == store.ReviewPartnership {
		reviewers = p.Reviewers
	}
	direction := "two-way"
	if a.OneWay {
		direction = "one-way"
	}
	return Collection{ID: c.ID, Title: c.Title, Description: c.Description, Alias: c.Alias,
		CanRead: a.CanRead(), CanWrite: a.CanWrite(), MediaTypes: media,
		PersonalData: personal, NoOnwardSharing: p.NoOnwardSharing, Jurisdictions: p.Jurisdictions,
		AllowedTypes: c.Policy.AllowedTypes, DeniedProperties: c.Policy.DeniedProperties, TLPMax: c.Policy.MaxTLP.String(),
		Unmarked: unmarked, AllowedProperties: c.Policy.AllowedProperties,
		Review: string(c.Policy.Review), ReviewTimeout: reviewTimeout, Reviewers: reviewers,
		Retention: int64(c.Policy.Retention / time.Second),
		Role:      string(a.Membership.Role), Clearance: a.Membership.Clearance.String(), Direction: direction}
}

// Collections is the collections resource.
type Collections struct {
	Collections []Collection `json:"collections"`
}

// Envelope is the objects resource.
type Envelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects"`
}

// NewEnvelope renders a page of objects; each object goes out byte for byte as it was stored.
func NewEnvelope(p store.Page) Envelope {
	e := Envelope{More: p.More, Next: p.Next, Objects: make([]json.RawMessage, len(p.Records))}
	for i, r := range p.Records {
		e.Objects[i] = r.Content
	}
	return e
}

// ManifestRecord describes one object version. Withdrawn, a custom property, marks the version the
// hub stored in place of an object its publisher withdrew (see Tombstone).
type ManifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
	Withdrawn bool   `json:"x_taxiihub_withdrawn,omitempty"`
}

// Manifest is the manifest resource. Next is not in the specification's manifest, but taxii2-client
// pages manifests with it like objects, and a manifest without it could not be resumed.
type Manifest struct {
	More    bool             `json:"more"`
	Next    string           `json:"next,omitempty"`
	Objects []ManifestRecord `json:"objects"`
}

// NewManifest renders a page of versions.
func NewManifest(p store.Page) Manifest {
	m := Manifest{More: p.More, Next: p.Next, Objects: make([]ManifestRecord, len(p.Records))}
	for i, r := range p.Records {
		m.Objects[i] = ManifestRecord{ID: r.ID, DateAdded: FormatDateAdded(r.DateAdded),
			Version: store.FormatVersion(r.Version), MediaType: "application/stix+json;version=" + r.SpecVersion, Withdrawn: r.Withdrawn}
	}
	return m
}

// Versions is the versions resource; Next is an extension, as for manifests.
type Versions struct {
	More     bool     `json:"more"`
	Next     string   `json:"next,omitempty"`
	Versions []string `json:"versions"`
}

// NewVersions renders a page of one object's versions.
func NewVersions(p store.Page) Versions {
	v := Versions{More: p.More, Next: p.Next, Versions: make([]string, len(p.Records))}
	for i, r := range p.Records {
		v.Versions[i] = store.FormatVersion(r.Version)
	}
	return v
}

// Status is the status resource. Its counts always equal the lengths of its lists.
type Status struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"`
	RequestTimestamp string         `json:"request_timestamp,omitempty"`
	TotalCount       int            `json:"total_count"`
	SuccessCount     int            `json:"success_count"`
	Successes        []StatusDetail `json:"successes"`
	FailureCount     int            `json:"failure_count"`
	Failures         []StatusDetail `json:"failures"`
	PendingCount     int            `json:"pending_count"`
	Pendings         []StatusDetail `json:"pendings"`
}

// StatusDetail is the outcome for one object.
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// NewStatus renders a stored status.
func NewStatus(s store.Status) Status {
	details := func(ds []store.StatusDetail) []StatusDetail {
		out := make([]StatusDetail, len(ds))
		for i, d := range ds {
			out[i] = StatusDetail(d)
		}
		return out
	}
	st := Status{
		ID:        s.ID,
		Status:    "complete",
		Successes: details(s.Successes),
		Failures:  details(s.Failures),
		Pendings:  details(s.Pendings),
	}
	if s.Pending {
		st.Status = "pending"
	}
	if !s.RequestTimestamp.IsZero() {
		st.RequestTimestamp = FormatDateAdded(s.RequestTimestamp)
	}
	st.SuccessCount, st.FailureCount, st.PendingCount = len(st.Successes), len(st.Failures), len(st.Pendings)
	st.TotalCount = st.SuccessCount + st.FailureCount + st.PendingCount
	return st
}
