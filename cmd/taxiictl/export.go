package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"taxiihub/internal/admin"
	"taxiihub/internal/store"
)

var exportAction = action{"", "FILE",
	"write the whole hub, consistently, while it serves, to FILE (which must not exist), for taxiictl import on another hub", exportHub}

var importAction = action{"", "FILE",
	"load an export FILE into this hub, which must be new (nothing but its own operator token and key)", importHub}

// exportResult is what export prints with --json.
type exportResult struct {
	File     string               `json:"file"`
	Bytes    int64                `json:"bytes"`
	Manifest admin.ExportManifest `json:"manifest"`
}

// exportHub streams POST /admin/export/ into a file beside FILE, checks the whole file (its
// manifest's counts and hash), and only then gives it FILE's name, so that FILE is either a whole
// export or absent.
func exportHub(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	dest := args[0]
	if _, err := os.Lstat(dest); err == nil {
		return &inputError{fmt.Errorf("%s exists; an export never overwrites a file", dest)}
	}
	c, err := inv.connect()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return &inputError{fmt.Errorf("create the export file: %w", err)}
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	n, err := c.stream(http.MethodPost, "/admin/export/", nil, "", tmp, admin.ExportMediaType)
	if err = errors.Join(err, tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	m, err := checkExport(tmp.Name())
	if err != nil {
		return fmt.Errorf("the export that arrived is not whole: %w", err)
	}
	if err := os.Link(tmp.Name(), dest); err != nil { // unlike a rename, never replaces dest
		return &inputError{fmt.Errorf("name the export %s: %w", dest, err)}
	}
	res := exportResult{File: dest, Bytes: n, Manifest: m}
	return inv.output(res, func(w io.Writer) {
		fmt.Fprintf(w, "exported %s to %s (%d bytes, sha256 %s)\n", countsLine(m.Counts), dest, n, m.SHA256)
		fmt.Fprintf(w, "load it into a new hub with: taxiictl import %s\n", dest)
	})
}

// importHub checks the whole file first, so that a damaged one is refused before the hub writes
// anything, then streams it to POST /admin/import/.
func importHub(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	src := args[0]
	if _, err := checkExport(src); err != nil {
		return &inputError{err}
	}
	c, err := inv.connect()
	if err != nil {
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return &inputError{err}
	}
	defer f.Close()
	var res admin.ImportResult
	var answer strings.Builder
	if _, err := c.stream(http.MethodPost, "/admin/import/", f, admin.ExportMediaType, &answer, "application/json"); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(answer.String()), &res); err != nil {
		return fmt.Errorf("read the hub's answer: %w", err)
	}
	return inv.output(res, func(w io.Writer) {
		fmt.Fprintf(w, "imported %s in %.1f s; the ledger ends at %d:%s\n", countsLine(res.Counts), res.Seconds,
			res.LedgerSeq, res.LedgerHash)
		fmt.Fprintf(w, "check it with: taxiictl audit verify --deep --ledger-at %d:%s\n", res.LedgerSeq, res.LedgerHash)
	})
}

// checkExport reads a whole export file and checks its manifest.
func checkExport(path string) (admin.ExportManifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return admin.ExportManifest{}, err
	}
	defer f.Close()
	er, err := admin.NewExportReader(f)
	if err != nil {
		return admin.ExportManifest{}, fmt.Errorf("%s: %w", path, err)
	}
	defer er.Close()
	for {
		_, _, err := er.Next()
		if errors.Is(err, io.EOF) {
			m, _ := er.Manifest()
			return m, nil
		}
		if err != nil {
			return admin.ExportManifest{}, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// countsLine says how many records of each kind, in export order.
func countsLine(counts map[store.ExportKind]int64) string {
	var parts []string
	for _, k := range store.ExportKinds {
		if n := counts[k]; n > 0 && k != store.KindLedgerHead && k != store.KindAuditHead {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if !slices.Contains(store.ExportKinds, k) {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

// stream sends body (nil for none) and copies the answer into w when it is of the wanted type;
// any other answer is the hub's refusal. No overall timeout: the hub bounds transfers by its
// minimum transfer rate.
func (c *hubClient) stream(method, path string, body io.Reader, contentType string, w io.Writer, want string) (int64, error) {
	if body == nil {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, body)
	if err != nil {
		return 0, fmt.Errorf("build the request: %w", err)
	}
	if f, ok := body.(*os.File); ok {
		if info, err := f.Stat(); err == nil {
			req.ContentLength = info.Size()
		}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", "taxiictl")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	streaming := *c.http
	streaming.Timeout = 0
	resp, err := streaming.Do(req)
	if err != nil {
		return 0, &unreachableError{url: c.base, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) {
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		e := &refusedError{status: resp.StatusCode}
		if json.Unmarshal(answer, &e.body) != nil || e.body.Title == "" {
			e.body = errorBody{Description: "unexpected answer: " + snippet(answer)}
		}
		return 0, e
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("receive the answer after %d bytes: %w", n, err)
	}
	return n, nil
}
