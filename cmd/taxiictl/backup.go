package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"taxiihub/internal/admin"
)

var backupAction = action{"", "FILE",
	"copy the hub's embedded database, consistently, while it serves, to FILE (which must not exist)", backupDatabase}

// backupResult is what backup prints with --json.
type backupResult struct {
	File          string `json:"file"`
	Bytes         int64  `json:"bytes"`
	SchemaVersion int    `json:"schema_version"`
	LedgerSeq     int64  `json:"ledger_seq"`
	LedgerHash    string `json:"ledger_hash"`
}

// backupDatabase streams POST /admin/backup/ into a file beside FILE, checks that it arrived whole,
// and only then gives it FILE's name, so that FILE is either a whole backup or absent. The call has
// no overall timeout: the hub bounds the copy by its request timeout and the transfer by its
// minimum transfer rate.
func backupDatabase(inv *invocation) error {
	args, err := inv.parse(1, 1)
	if err != nil {
		return err
	}
	dest := args[0]
	if _, err := os.Lstat(dest); err == nil {
		return &inputError{fmt.Errorf("%s exists; a backup never overwrites a file", dest)}
	}
	c, err := inv.connect()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return &inputError{fmt.Errorf("create the backup file: %w", err)}
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	res, err := c.backup(tmp)
	if err = errors.Join(err, tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), dest); err != nil { // unlike a rename, never replaces dest
		return &inputError{fmt.Errorf("name the backup %s: %w", dest, err)}
	}
	res.File = dest
	return inv.output(res, func(w io.Writer) {
		if res.LedgerSeq == 0 {
			fmt.Fprintf(w, "backed up %d bytes to %s (schema version %d); the ledger is empty\n", res.Bytes, dest, res.SchemaVersion)
			fmt.Fprintln(w, "after a restore, check it with: taxiictl audit verify --deep")
			return
		}
		fmt.Fprintf(w, "backed up %d bytes to %s (schema version %d); the ledger ends at %d:%s\n",
			res.Bytes, dest, res.SchemaVersion, res.LedgerSeq, res.LedgerHash)
		fmt.Fprintf(w, "after a restore, check it with: taxiictl audit verify --deep --ledger-at %d:%s\n", res.LedgerSeq, res.LedgerHash)
	})
}

func (c *hubClient) backup(w io.Writer) (backupResult, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, c.base+"/admin/backup/", http.NoBody)
	if err != nil {
		return backupResult{}, fmt.Errorf("build the request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", "taxiictl")
	streaming := *c.http
	streaming.Timeout = 0
	resp, err := streaming.Do(req)
	if err != nil {
		return backupResult{}, &unreachableError{url: c.base, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != admin.BackupMediaType {
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		e := &refusedError{status: resp.StatusCode}
		if json.Unmarshal(answer, &e.body) != nil || e.body.Title == "" {
			e.body = errorBody{Description: "the answer is not a taxiihub backup: " + snippet(answer)}
		}
		return backupResult{}, e
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return backupResult{}, fmt.Errorf("receive the backup after %d bytes: %w", n, err)
	}
	if n != resp.ContentLength {
		return backupResult{}, fmt.Errorf("the backup was cut off: %d of %d bytes arrived", n, resp.ContentLength)
	}
	res := backupResult{Bytes: n, LedgerHash: resp.Header.Get(admin.BackupLedgerHashHeader)}
	res.LedgerSeq, _ = strconv.ParseInt(resp.Header.Get(admin.BackupLedgerSeqHeader), 10, 64)
	res.SchemaVersion, _ = strconv.Atoi(resp.Header.Get(admin.BackupSchemaHeader))
	return res, nil
}
