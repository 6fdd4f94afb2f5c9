package admin_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
)

// exportOf exports a hub holding a partnership, a member and the audit entries of both.
func exportOf(t *testing.T) []byte {
	t.Helper()
	e := newEnv(t)
	if _, err := e.svc.CreatePartnership(t.Context(), "alice", admin.Partnership{Slug: "eu-japan", Title: "EU–Japan"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddMember(t.Context(), "alice", admin.Member{ID: "jpcert", Name: "JPCERT/CC", Jurisdiction: "JP"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res, err := e.svc.Export(t.Context(), "alice", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes != int64(buf.Len()) || res.Manifest.Counts[store.KindAPIRoot] != 1 || res.Manifest.Counts[store.KindMember] != 1 {
		t.Fatalf("export result %+v for %d bytes", res, buf.Len())
	}
	return buf.Bytes()
}

// rewrite decompresses an export, changes its text with edit, and compresses it again.
func rewrite(t *testing.T, file []byte, edit func(string) string) []byte {
	t.Helper()
	dec, err := zstd.NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	plain, err := io.ReadAll(dec)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	enc, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Write([]byte(edit(string(plain)))); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestImportRoundTripAndAudit(t *testing.T) {
	file := exportOf(t)
	e := newEnv(t)
	res, err := e.svc.Import(t.Context(), "bob", bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts[store.KindAPIRoot] != 1 || res.Counts[store.KindMember] != 1 {
		t.Errorf("imported %v", res.Counts)
	}
	entries, err := e.svc.Audit(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[len(entries)-1].Action != "hub.import" {
		t.Errorf("the audit trail does not end with the import: %+v", entries)
	}
	// A second import meets a hub that is no longer new.
	_, err = e.svc.Import(t.Context(), "bob", bytes.NewReader(file))
	wantKind(t, "a second import", err, admin.Conflict, "not empty")
}

// TestImportRefusesDamagedFiles: every damage is found before or while reading, and said plainly.
func TestImportRefusesDamagedFiles(t *testing.T) {
	file := exportOf(t)
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"not zstd", []byte("SQLite format 3\x00"), "invalid export file"},
		{"cut off", rewrite(t, file, func(s string) string { return s[:strings.LastIndex(s, `{"manifest"`)] }), "cut off"},
		{"changed record", rewrite(t, file, func(s string) string { return strings.Replace(s, "JPCERT/CC", "JPCERT/XX", 1) }), "SHA-256"},
		{"record removed", rewrite(t, file, func(s string) string {
			i := strings.Index(s, `{"kind":"member"`)
			return s[:i] + s[i+strings.Index(s[i:], "\n")+1:]
		}), "SHA-256"},
		{"unknown kind", rewrite(t, file, func(s string) string { return strings.Replace(s, `{"kind":"member"`, `{"kind":"robot"`, 1) }), "unknown record kind"},
		{"unknown field", rewrite(t, file, func(s string) string { return strings.Replace(s, `"Name":"JPCERT/CC"`, `"Nom":"JPCERT/CC"`, 1) }), "unknown field"},
		{"other format version", rewrite(t, file, func(s string) string { return strings.Replace(s, `"format_version":1`, `"format_version":9`, 1) }), "format version 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.svc.Import(t.Context(), "bob", bytes.NewReader(tc.file))
			wantKind(t, tc.name, err, admin.Invalid, tc.want)
		})
	}
}
