package sharing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"taxiihub/internal/policy"
	"time"
)

// How a withdrawal reaches pollers. The hub replaces every version of the object in the collection
// with one version, the tombstone, which is then the newest thing in the collection, so that pollers
// resuming with added_after or next receive it:
//
//   - Objects with a modified property (SDOs, SROs, language content, extension definitions) get a
//     new version in the ordinary STIX way: the newest version's properties, modified set to the time
//     of the withdrawal (or a millisecond after the newest version, if later), and "revoked": true,
//     which STIX defines as "no longer considered valid by the object creator"; consumers that follow
//     STIX (taxii2-client users, OpenCTI, MISP) mark or remove their copies.
//   - Every tombstone also carries the custom property "x_taxiihub_withdrawn": true, and so do the
//     manifest records of its version, so that consumers can tell a withdrawal from an ordinary
//     revocation and delete their copies; observables and marking definitions, which have no revoked
//     property, are withdrawn with it alone, versioned by the date the hub added the tombstone.
//
// The tombstone keeps the newest version's properties because STIX requires a version to be a
// complete object; the earlier versions are gone from the hub. A withdrawn id is never accepted
// again, in any collection.

// WithdrawnProperty is the custom property that marks a tombstone.
const WithdrawnProperty = policy.HubPropertyPrefix + "withdrawn"

// stixTimestamp is how the hub writes the modified of a tombstone: UTC, milliseconds.
const stixTimestamp = "2006-01-02T15:04:05.000Z"

// Tombstone builds the version that replaces a withdrawn object, from the content of its newest
// version and the time of the withdrawal. It returns the version's timestamp, or zero for an object
// without modified.
func Tombstone(newest []byte, at time.Time) ([]byte, time.Time, error) {
	dec := json.NewDecoder(bytes.NewReader(newest))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, time.Time{}, fmt.Errorf("sharing: tombstone: the stored object does not decode: %v", err)
	}
	var version time.Time
	if m, ok := obj["modified"].(string); ok {
		prev, err := time.Parse(time.RFC3339Nano, m)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("sharing: tombstone: modified %q: %w", m, err)
		}
		version = at.UTC().Truncate(time.Millisecond)
		if !version.After(prev) {
			version = prev.UTC().Truncate(time.Millisecond).Add(time.Millisecond)
		}
		obj["modified"] = version.Format(stixTimestamp)
		obj["revoked"] = true
	}
	obj[WithdrawnProperty] = true
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, time.Time{}, fmt.Errorf("sharing: tombstone: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), version, nil
}
