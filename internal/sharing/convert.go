package sharing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"taxiihub/internal/convert"
	"taxiihub/internal/store"
)

// MaxConvertedObjects is the most objects one conversion request may produce (indicators, marking
// definitions, observables, relationships, the report): the most a TAXII envelope may hold, so
// that a conversion costs no more than the POST of its result. taxiictl publish sends larger files
// in parts.
const MaxConvertedObjects = 10_000

// MaxConvertedLines is the most lines (CSV rows, MISP attributes, bundle members) one conversion
// request may report on, refused ones included: a body of short garbage lines would otherwise make
// a verdict each, many times the body's size in memory.
const MaxConvertedLines = 10_000

// The verdicts of a converted line.
const (
	VerdictStored         = "stored"
	VerdictAlreadyPresent = "already present"
	VerdictAccepted       = "accepted" // a caller that may not read all the collection is told no more
	VerdictRefused        = "refused"
	VerdictSkipped        = "skipped" // nothing to publish: a MISP attribute without to_ids, a note
)

// LineVerdict is what became of one line (CSV row, MISP attribute, STIX object) of a conversion.
type LineVerdict struct {
	Line    int    `json:"line,omitempty"`
	Where   string `json:"where,omitempty"`
	Input   string `json:"input,omitempty"`
	Kind    string `json:"kind,omitempty"`
	ID      string `json:"id,omitempty"`
	Verdict string `json:"verdict"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// Conversion is the result of PublishConversion: the request's status and a verdict per line.
type Conversion struct {
	Status store.Status
	Lines  []LineVerdict
}

// PublishConversion converts what an analyst submitted (an IOC list, a CSV file, a MISP event or
// a STIX bundle) and publishes the result exactly as Publish does, so that every rule of the
// collection and the ledger apply. The objects are the caller's: opts.Member and opts.Now are set
// here, from the authenticated caller and the hub's clock, whatever the request said.
//
// Before publishing, the versions of the converted objects are settled against what the caller
// already published in the collection (see settle), so that the same list submitted twice stores
// nothing twice and a changed description becomes a new version.
func (s *Service) PublishConversion(ctx context.Context, acc Access, r io.Reader, opts convert.Options, dryRun bool) (Conversion, error) {
	if err := acc.RequireWrite(); err != nil {
		return Conversion{}, err
	}
	opts.Member = acc.Caller.MemberID
	opts.Now = s.now()
	conv, err := convert.New(r, opts)
	if err != nil {
		return Conversion{}, &Error{Kind: Invalid, Message: strings.TrimPrefix(err.Error(), "convert: ")}
	}
	var items []convert.Item
	objects := 0
	for {
		it, err := conv.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Conversion{}, &Error{Kind: Invalid, Message: strings.TrimPrefix(err.Error(), "convert: ")}
		}
		objects += len(it.Objects)
		if len(items) == MaxConvertedLines {
			return Conversion{}, &Error{Kind: TooLarge, Message: fmt.Sprintf(
				"The submission has more than %d lines to report on, the most one request may; send it in parts (taxiictl publish does).", MaxConvertedLines)}
		}
		if objects > MaxConvertedObjects {
			return Conversion{}, &Error{Kind: TooLarge, Message: fmt.Sprintf(
				"The submission converts to more than %d objects, the most one request may publish; send it in parts (taxiictl publish does).", MaxConvertedObjects)}
		}
		items = append(items, it)
	}
	owned, err := s.settle(ctx, acc, items)
	if err != nil {
		return Conversion{}, err
	}
	var raws []json.RawMessage
	for _, it := range items {
		for _, o := range it.Objects {
			raw, err := o.JSON()
			if err != nil {
				return Conversion{}, err
			}
			raws = append(raws, raw)
		}
	}
	var st store.Status
	if len(raws) > 0 {
		if st, err = s.Publish(ctx, acc, raws, dryRun); err != nil {
			return Conversion{}, err
		}
	} else {
		// Nothing converted: no request reaches the store, and the caller gets the lines' reasons.
		st = store.Status{APIRoot: acc.Root.Slug, Submitter: acc.Caller.MemberID, RequestTimestamp: s.now(),
			Successes: []store.StatusDetail{}, Failures: []store.StatusDetail{}, Pendings: []store.StatusDetail{}}
	}
	return Conversion{Status: st, Lines: lineVerdicts(items, st, owned)}, nil
}

// settle gives each converted object the version it must have. An object the caller already holds
// in the collection, unchanged but for its timestamps, takes the stored version's created,
// modified, valid_from and (when it was a lifetime) valid_until, so that it is reported already
// present; a changed one keeps the stored created and valid_from and gets a later modified, a new
// version. Objects the caller never published keep the conversion's times.
//
// Only the caller's own objects are read, as the origins record them: comparing with anyone
// else's object would tell the caller about content it may not read. settle returns what it found
// of each id: the caller's own object unchanged, or changed, or an id first published by another
// member, or an id no one published yet. Objects let through unchanged (from a STIX bundle) are
// not settled and are left out.
func (s *Service) settle(ctx context.Context, acc Access, items []convert.Item) (map[string]ownership, error) {
	found := map[string]ownership{}
	byID := map[string][]*convert.SDO{}
	var keys []string
	for _, it := range items {
		for _, o := range it.Objects {
			if o.SDO == nil {
				continue
			}
			if _, seen := byID[o.SDO.ID]; !seen {
				keys = append(keys, store.OriginKeyID(o.SDO.ID))
			}
			byID[o.SDO.ID] = append(byID[o.SDO.ID], o.SDO)
			found[o.SDO.ID] = ownNew
		}
	}
	for start := 0; start < len(keys); start += store.MaxLimit {
		batch := keys[start:min(start+store.MaxLimit, len(keys))]
		origins, err := s.store.Origins(ctx, store.SortedSet(batch))
		if err != nil {
			return nil, fmt.Errorf("sharing: origins of converted objects: %w", err)
		}
		var own []string
		for _, o := range origins {
			id, ok := store.IDOfOriginKey(o.Key)
			switch {
			case !ok || o.APIRoot != acc.Root.Slug:
			case o.Member == acc.Caller.MemberID:
				own = append(own, id)
				found[id] = ownChanged // until its stored version says otherwise
			default:
				found[id] = othersObject
			}
		}
		if len(own) == 0 {
			continue
		}
		page, err := s.store.Objects(ctx, acc.Collection.ID, store.Query{IDs: own, Limit: store.MaxLimit})
		if err != nil {
			return nil, fmt.Errorf("sharing: stored versions of converted objects: %w", err)
		}
		for _, rec := range page.Records {
			for _, o := range byID[rec.ID] {
				if settleOne(o, rec.Content, s.now()) {
					found[rec.ID] = ownUnchanged
				}
			}
		}
	}
	return found, nil
}

// ownership is what settle found of a converted object's id.
type ownership int

const (
	ownNew       ownership = iota + 1 // made by the conversion; no member published its id yet
	ownUnchanged                      // the caller's, stored in the collection with this content
	ownChanged                        // the caller's, with other content or in another collection
	othersObject                      // first published in the partnership by another member
)

// settleOne gives o the version it must have next to the stored version content, and reports
// whether that is the stored version itself.
func settleOne(o *convert.SDO, content []byte, now time.Time) bool {
	var stored convert.SDO
	if err := json.Unmarshal(content, &stored); err != nil {
		return false // not what the converter writes: o goes as a version of its own
	}
	created, err1 := time.Parse(time.RFC3339Nano, stored.Created)
	modified, err2 := time.Parse(time.RFC3339Nano, stored.Modified)
	if err1 != nil || err2 != nil {
		return false
	}
	validFrom := created
	if stored.ValidFrom != "" {
		if t, err := time.Parse(time.RFC3339Nano, stored.ValidFrom); err == nil {
			validFrom = t
		}
	}
	explicitUntil := o.ValidUntil
	candidate := *o
	candidate.SetTimes(created, modified, validFrom)
	if o.Lifetime > 0 {
		// A lifetime counted from the first submission; the stored end stands.
		candidate.ValidUntil = stored.ValidUntil
	} else if explicitUntil == "" {
		candidate.ValidUntil = ""
	}
	if sameJSON(&candidate, content) {
		*o = candidate
		return true
	}
	next := now
	if !next.After(modified) {
		next = modified.Add(time.Millisecond)
	}
	lifetime := o.Lifetime
	o.SetTimes(created, next, validFrom)
	if lifetime > 0 && !validFrom.Add(lifetime).After(next) {
		// The first lifetime is over: the new version is valid for a lifetime from now.
		o.ValidUntil = convert.FormatTimestamp(next.Add(lifetime))
	}
	return false
}

// sameJSON reports whether o encodes to the same JSON value as content, whatever the spacing and
// member order of content.
func sameJSON(o *convert.SDO, content []byte) bool {
	raw, err := json.Marshal(o)
	if err != nil {
		return false
	}
	var a, b any
	if json.Unmarshal(raw, &a) != nil || json.Unmarshal(content, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// lineVerdicts tells, line by line, what the status says of each line's main object.
//
// A caller that may not read all the collection is told "accepted" by the status, whatever the
// store made of an object, so that posting cannot probe what others published. Of its own
// objects, which settle read, it learns nothing new by being told the truth: one it holds unchanged
// is already present, one it never published or changed is stored. Ids another member published
// first stay "accepted".
func lineVerdicts(items []convert.Item, st store.Status, owned map[string]ownership) []LineVerdict {
	type outcome struct {
		success bool
		message string
	}
	byID := map[string]outcome{}
	for _, d := range st.Successes {
		byID[d.ID] = outcome{true, d.Message}
	}
	for _, d := range st.Failures {
		byID[d.ID] = outcome{false, d.Message}
	}
	lines := make([]LineVerdict, 0, len(items))
	for _, it := range items {
		v := LineVerdict{Line: it.Line, Where: it.Where, Input: it.Input, Kind: string(it.Kind), ID: it.ID}
		switch {
		case it.Issue != nil:
			v.Verdict, v.Code, v.Message = VerdictRefused, it.Issue.Code, it.Issue.Message
		case it.ID == "" && len(it.Objects) == 0:
			v.Verdict, v.Message = VerdictSkipped, it.Note
		default:
			o, ok := byID[it.ID]
			switch {
			case !ok:
				v.Verdict, v.Message = VerdictRefused, "the hub gave no verdict for this object"
			case !o.success:
				v.Verdict, v.Code, v.Message = VerdictRefused, problemCode(o.message), o.message
			case strings.HasPrefix(o.message, "added"):
				v.Verdict, v.Message = VerdictStored, o.message
			case strings.HasPrefix(o.message, "accepted") && owned[it.ID] == ownUnchanged:
				v.Verdict, v.Message = VerdictAlreadyPresent, "already present; nothing changed"+strings.TrimPrefix(o.message, "accepted")
			case strings.HasPrefix(o.message, "accepted") && (owned[it.ID] == ownNew || owned[it.ID] == ownChanged):
				v.Verdict, v.Message = VerdictStored, "added"+strings.TrimPrefix(o.message, "accepted")
			case strings.HasPrefix(o.message, "accepted"):
				v.Verdict, v.Message = VerdictAccepted, o.message
			default:
				v.Verdict, v.Message = VerdictAlreadyPresent, o.message
			}
			if it.Note != "" {
				v.Message = strings.TrimPrefix(v.Message+"; "+it.Note, "; ")
			}
		}
		lines = append(lines, v)
	}
	return lines
}

// problemCode is the code of the first [code] in a status message.
func problemCode(message string) string {
	start := strings.IndexByte(message, '[')
	end := strings.IndexByte(message, ']')
	if start < 0 || end < start {
		return "not-stored"
	}
	return message[start+1 : end]
}
