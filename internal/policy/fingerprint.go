package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strings"
)

// submitterFields are the common properties set aside when fingerprinting content, because they say
// who submitted it and how that submitter keeps it, not what it says: re-posting received content
// under a new id, with new timestamps, as another author, with other markings, confidence, language
// or references to one's own records, does not make it other content. Top-level custom properties
// (x_...) are set aside too, since tools add their own (x_opencti_score, x_misp_...).
var submitterFields = []string{
	"id", "created", "modified", "created_by_ref", "revoked", "confidence", "lang",
	"object_marking_refs", "granular_markings", "external_references",
}

// publicObjects are objects every partner may post anywhere: the predefined TLP marking definitions
// and the TLP 2.0 extension definition are the same public objects in every bundle, and no
// partnership can own them.
func publicObject(id string) bool {
	_, tlp := tlpLevels[id]
	return tlp || id == tlp2Extension
}

// Fingerprint returns the SHA-256, in hex, of the object's canonical JSON encoding (keys sorted, no
// insignificant space, numbers as written) without the submitter's fields, or "" for a public object.
func Fingerprint(raw []byte) string {
	obj, err := decode(raw)
	if err != nil {
		return ""
	}
	return fingerprint(obj)
}

func fingerprint(obj map[string]any) string {
	if id, _ := obj["id"].(string); publicObject(id) {
		return ""
	}
	content := make(map[string]any, len(obj))
	for k, v := range obj {
		if slices.Contains(submitterFields, k) || strings.HasPrefix(k, "x_") {
			continue
		}
		content[k] = v
	}
	// Encoded straight into the hash rather than into a buffer first: an object holding a string
	// of megabytes would otherwise be copied once more, and the buffer grown several times over.
	h := sha256.New()
	enc := json.NewEncoder(withoutNewline{h})
	enc.SetEscapeHTML(false)
	if err := enc.Encode(content); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// withoutNewline drops the newline json.Encoder ends a value with, so that the hash is that of the
// same bytes encode returns. The encoder writes each value, newline included, in one call, and
// compact JSON holds no other raw newline.
type withoutNewline struct{ w io.Writer }

func (n withoutNewline) Write(p []byte) (int, error) {
	if _, err := n.w.Write(bytes.TrimSuffix(p, []byte("\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
