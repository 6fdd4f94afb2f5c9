package stix

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzObject checks that no input makes the validator panic, and that a verdict is valid
// exactly when it holds no error.
func FuzzObject(f *testing.F) {
	v := newTestValidator(f)
	for _, seed := range []string{indicatorJSON, relationshipJSON, tlpGreenJSON, tlp2AmberJSON, fileJSON, observedJSON} {
		f.Add([]byte(seed))
	}
	if entries, err := os.ReadDir(filepath.Join(corpusDir, "oasis-validator-cases", "valid")); err == nil {
		for _, e := range entries {
			if raw, err := os.ReadFile(filepath.Join(corpusDir, "oasis-validator-cases", "valid", e.Name())); err == nil {
				f.Add(raw)
			}
		}
	}
	if entries, err := os.ReadDir(filepath.Join(corpusDir, "tcm1911-fuzz-crashers")); err == nil {
		for _, e := range entries {
			if raw, err := os.ReadFile(filepath.Join(corpusDir, "tcm1911-fuzz-crashers", e.Name())); err == nil {
				f.Add(raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkInvariants(t, v, raw)
	})
}
