package admin

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"taxiihub/internal/buildinfo"
	"taxiihub/internal/store"
)

// The export file: Zstandard-compressed JSON lines. The first line is the header, then one line per
// record ({"kind": K, "record": {...}}, kinds in store.ExportKinds order), and last the manifest,
// which repeats the header, counts the records of each kind and gives the SHA-256 of every byte
// before it (uncompressed). Records are the store's own types as encoding/json writes them (object
// content as base64, so its bytes come back exactly); ExportFormatVersion changes whenever they do.
const (
	// ExportMediaType is the content type of an export, sent and received by the admin API.
	ExportMediaType = "application/vnd.taxiihub.export+zstd"
	// ExportFormat names the file format in its header and manifest.
	ExportFormat = "taxiihub-export"
	// ExportFormatVersion is the version of the format this build writes and reads.
	ExportFormatVersion = 1
	// MaxExportLine bounds one line of an export: an object as large as the largest request body
	// a hub accepts (32 MiB by default; up to 48 MiB of base64) fits, and an import never holds
	// more than one line, and one batch of records, in memory.
	MaxExportLine = 64 << 20
	// exportWindow is the compression window: a decoder needs this much memory, and an import
	// refuses a file that asks for more than twice it.
	exportWindow = 4 << 20
)

// ExportHeader is the first line of an export.
type ExportHeader struct {
	Format        string    `json:"format"`
	FormatVersion int       `json:"format_version"`
	HubVersion    string    `json:"hub_version"`
	Created       time.Time `json:"created"`
}

// ExportManifest is the last line of an export.
type ExportManifest struct {
	ExportHeader
	Counts map[store.ExportKind]int64 `json:"counts"`
	// SHA256 is the hex SHA-256 of every byte of the uncompressed file before the manifest's line.
	SHA256 string `json:"sha256"`
}

type exportLine struct {
	Kind     store.ExportKind `json:"kind,omitempty"`
	Record   json.RawMessage  `json:"record,omitempty"`
	Manifest *ExportManifest  `json:"manifest,omitempty"`
}

// ExportResult is what an export wrote.
type ExportResult struct {
	Manifest ExportManifest
	// Bytes is the size of the compressed file.
	Bytes int64
}

// exclusive is set while an export or import runs on this node: each reads or writes the whole
// hub, and one at a time is enough.
type exclusive struct{ busy atomic.Bool }

// Export writes the whole hub to w as an export file (see ExportMediaType): every partnership,
// collection, member, grant, membership, token record, verification key, seed, object version,
// origin, withdrawal, status, object held for review, ledger entry, pull detail and audit entry, from the
// store's consistent view (store.Exporter), then records in the audit trail that the operator did.
func (s *Service) Export(ctx context.Context, actor string, w io.Writer) (ExportResult, error) {
	ex, ok := unwrapStore[store.Exporter](s.store)
	if !ok {
		return ExportResult{}, conflict(nil, "this hub's store cannot be exported")
	}
	if !s.porting.busy.CompareAndSwap(false, true) {
		return ExportResult{}, conflict(nil, "an export or import is already running on this hub node; try again once it is done")
	}
	defer s.porting.busy.Store(false)
	counted := &countingWriter{w: w}
	enc, err := zstd.NewWriter(counted, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithWindowSize(exportWindow),
		zstd.WithEncoderConcurrency(1))
	if err != nil {
		return ExportResult{}, fmt.Errorf("admin: export: %w", err)
	}
	sum := sha256.New()
	buf := bufio.NewWriterSize(io.MultiWriter(enc, sum), 1<<20)
	bi := buildinfo.Read()
	m := ExportManifest{ExportHeader: ExportHeader{Format: ExportFormat, FormatVersion: ExportFormatVersion,
		HubVersion: bi.Version + " " + bi.Revision, Created: s.stamp()}, Counts: map[store.ExportKind]int64{}}
	line := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = buf.Write(append(b, '\n'))
		return err
	}
	if err := line(m.ExportHeader); err != nil {
		return ExportResult{}, fmt.Errorf("admin: export: %w", errors.Join(err, enc.Close()))
	}
	err = ex.Export(ctx, func(kind store.ExportKind, v any) error {
		rec, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode a %s record: %w", kind, err)
		}
		m.Counts[kind]++
		return line(exportLine{Kind: kind, Record: rec})
	})
	if err == nil {
		err = buf.Flush()
	}
	if err != nil {
		return ExportResult{}, fmt.Errorf("admin: export: %w", errors.Join(err, enc.Close()))
	}
	m.SHA256 = hex.EncodeToString(sum.Sum(nil))
	b, err := json.Marshal(exportLine{Manifest: &m})
	if err == nil {
		_, err = enc.Write(append(b, '\n'))
	}
	if err = errors.Join(err, enc.Close()); err != nil {
		return ExportResult{}, fmt.Errorf("admin: export: %w", err)
	}
	res := ExportResult{Manifest: m, Bytes: counted.n}
	if err := s.record(ctx, actor, Change{Action: "export", Kind: "hub", Target: "all",
		Detail: fmt.Sprintf("%d objects, ledger at %d, %d bytes", m.Counts[store.KindObject], ledgerSeqOf(m), res.Bytes)}); err != nil {
		return res, err
	}
	return res, nil
}

// ledgerSeqOf is how many ledger entries an export holds: they are numbered from 1 without gaps.
func ledgerSeqOf(m ExportManifest) int64 { return m.Counts[store.KindLedger] }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// unwrapStore finds T in st or in the stores it wraps (the metrics wrapper times the ordinary
// operations; export and import are timed as a whole by the request).
func unwrapStore[T any](st any) (T, bool) {
	for {
		if t, ok := st.(T); ok {
			return t, true
		}
		u, ok := st.(interface{ Unwrap() store.Store })
		if !ok {
			var zero T
			return zero, false
		}
		st = u.Unwrap()
	}
}

// ExportReader reads an export file line by line, checking it as it goes: the header, each
// record's kind and form, and at the end the manifest's counts and hash. Holds one line at a time.
type ExportReader struct {
	dec    *zstd.Decoder
	r      *bufio.Reader
	sum    hash.Hash
	header ExportHeader
	counts map[store.ExportKind]int64
	done   *ExportManifest
}

// NewExportReader reads and checks the header of the export file r.
func NewExportReader(r io.Reader) (*ExportReader, error) {
	dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(2*exportWindow))
	if err != nil {
		return nil, invalidExport("not a Zstandard stream: %v", err)
	}
	er := &ExportReader{dec: dec, r: bufio.NewReaderSize(dec, 1<<20), sum: sha256.New(), counts: map[store.ExportKind]int64{}}
	line, err := er.line()
	if err != nil {
		dec.Close()
		return nil, err
	}
	er.sum.Write(line)
	er.sum.Write([]byte{'\n'})
	if err := strictJSON(line, &er.header); err != nil || er.header.Format != ExportFormat {
		dec.Close()
		return nil, invalidExport("the first line is not a taxiihub export header")
	}
	if er.header.FormatVersion != ExportFormatVersion {
		dec.Close()
		return nil, invalidExport("format version %d; this build reads version %d", er.header.FormatVersion, ExportFormatVersion)
	}
	return er, nil
}

// Header is the file's header.
func (er *ExportReader) Header() ExportHeader { return er.header }

// Close releases the decoder.
func (er *ExportReader) Close() { er.dec.Close() }

// invalidExport is an export file that cannot be read: the operator's input, not the hub's failure.
func invalidExport(format string, args ...any) error {
	return &Error{Kind: Invalid, Message: "invalid export file: " + fmt.Sprintf(format, args...)}
}

// line reads one line, without its newline, hashing it for the manifest.
func (er *ExportReader) line() ([]byte, error) {
	var out []byte
	for {
		chunk, err := er.r.ReadSlice('\n')
		if len(out)+len(chunk) > MaxExportLine {
			return nil, invalidExport("a line is longer than %d bytes", MaxExportLine)
		}
		out = append(out, chunk...)
		switch {
		case err == nil:
			return out[:len(out)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil, invalidExport("the file ends before its manifest: it was cut off")
		default:
			return nil, invalidExport("%v", err)
		}
	}
}

// Next returns the next record, or io.EOF after the manifest, once the manifest has been checked
// against what was read: counts per kind and the hash.
func (er *ExportReader) Next() (store.ExportKind, any, error) {
	if er.done != nil {
		return "", nil, io.EOF
	}
	line, err := er.line()
	if err != nil {
		return "", nil, err
	}
	var l exportLine
	if err := strictJSON(line, &l); err != nil {
		return "", nil, invalidExport("line %d: %v", er.total()+2, err)
	}
	if l.Manifest != nil {
		return "", nil, er.finish(l.Manifest)
	}
	er.sum.Write(line)
	er.sum.Write([]byte{'\n'})
	v, err := decodeRecord(l.Kind, l.Record)
	if err != nil {
		return "", nil, invalidExport("line %d: %v", er.total()+2, err)
	}
	er.counts[l.Kind]++
	return l.Kind, v, nil
}

func (er *ExportReader) total() int64 {
	var n int64
	for _, c := range er.counts {
		n += c
	}
	return n
}

func (er *ExportReader) finish(m *ExportManifest) error {
	if got := hex.EncodeToString(er.sum.Sum(nil)); got != m.SHA256 {
		return invalidExport("the content's SHA-256 is %s, the manifest says %s: the file was changed or damaged", got, m.SHA256)
	}
	for _, k := range slices.Sorted(maps.Keys(m.Counts)) {
		if er.counts[k] != m.Counts[k] {
			return invalidExport("%d %s records read, the manifest counts %d", er.counts[k], k, m.Counts[k])
		}
	}
	for k, n := range er.counts {
		if m.Counts[k] != n {
			return invalidExport("%d %s records read, the manifest counts %d", n, k, m.Counts[k])
		}
	}
	if _, err := er.r.ReadByte(); !errors.Is(err, io.EOF) {
		return invalidExport("data follows the manifest")
	}
	er.done = m
	return io.EOF
}

// Manifest is the checked manifest, once Next has returned io.EOF.
func (er *ExportReader) Manifest() (ExportManifest, bool) {
	if er.done == nil {
		return ExportManifest{}, false
	}
	return *er.done, true
}

func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// decodeRecord decodes a record into the type the store exports for its kind.
func decodeRecord(kind store.ExportKind, raw json.RawMessage) (any, error) {
	switch kind {
	case store.KindAPIRoot:
		return decodeAs[store.APIRoot](raw)
	case store.KindMember:
		return decodeAs[store.Member](raw)
	case store.KindCollection:
		return decodeAs[store.ExportedCollection](raw)
	case store.KindMembership:
		return decodeAs[store.Membership](raw)
	case store.KindGrant:
		return decodeAs[store.Grant](raw)
	case store.KindToken:
		return decodeAs[store.Token](raw)
	case store.KindVerificationKey:
		return decodeAs[store.VerificationKey](raw)
	case store.KindSeed:
		return decodeAs[store.Seed](raw)
	case store.KindObject:
		return decodeAs[store.ExportedObject](raw)
	case store.KindOrigin:
		return decodeAs[store.Origin](raw)
	case store.KindWithdrawal:
		return decodeAs[store.WithdrawnObject](raw)
	case store.KindStatus:
		return decodeAs[store.Status](raw)
	case store.KindPending:
		return decodeAs[store.PendingObject](raw)
	case store.KindLedger:
		return decodeAs[store.LedgerEntry](raw)
	case store.KindLedgerHead:
		return decodeAs[store.LedgerHead](raw)
	case store.KindPullDetail:
		return decodeAs[store.PullDetail](raw)
	case store.KindAudit:
		return decodeAs[store.AuditEntry](raw)
	case store.KindAuditHead:
		return decodeAs[store.AuditHead](raw)
	default:
		return nil, fmt.Errorf("unknown record kind %q", kind)
	}
}

func decodeAs[T any](raw json.RawMessage) (any, error) {
	var v T
	if err := strictJSON(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// ImportResult is what an import wrote.
type ImportResult struct {
	Manifest ExportManifest `json:"manifest"`
	// Counts is how many records of each kind were written.
	Counts map[store.ExportKind]int64 `json:"counts"`
	// LedgerSeq and LedgerHash are where the imported ledger ends, as in the old hub.
	LedgerSeq  int64   `json:"ledger_seq"`
	LedgerHash string  `json:"ledger_hash"`
	Seconds    float64 `json:"seconds"`
}

// Import loads an export file into this hub, which must be new: it may hold nothing but its own
// operator tokens and signing keys (store.CheckEmptyForImport). Records are written as they are
// read, so memory holds one line and one batch. The file's manifest is checked at the end; should
// it not match, or the import fail halfway, the hub holds part of the export and is to be
// discarded (its store emptied) before importing again: taxiictl checks the file whole before
// sending it, so that a damaged file is refused before anything is written.
func (s *Service) Import(ctx context.Context, actor string, r io.Reader) (ImportResult, error) {
	st, ok := unwrapStore[store.ImportStore](s.store)
	if !ok {
		return ImportResult{}, conflict(nil, "this hub's store cannot import")
	}
	if !s.porting.busy.CompareAndSwap(false, true) {
		return ImportResult{}, conflict(nil, "an export or import is already running on this hub node; try again once it is done")
	}
	defer s.porting.busy.Store(false)
	start := s.now()
	er, err := NewExportReader(r)
	if err != nil {
		return ImportResult{}, err
	}
	defer er.Close()
	im, err := store.BeginImport(ctx, st)
	if errors.Is(err, store.ErrNotEmpty) {
		return ImportResult{}, conflict(err, "%s", err.Error())
	}
	if err != nil {
		return ImportResult{}, fmt.Errorf("admin: import: %w", err)
	}
	for {
		kind, v, err := er.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ImportResult{}, err
		}
		if err := im.Add(ctx, kind, v); err != nil {
			if errors.Is(err, store.ErrImportOrder) {
				return ImportResult{}, invalidExport("%v", err)
			}
			return ImportResult{}, fmt.Errorf("admin: import: %w", err)
		}
	}
	if err := im.Finish(ctx); err != nil {
		return ImportResult{}, fmt.Errorf("admin: import: %w", err)
	}
	m, _ := er.Manifest()
	res := ImportResult{Manifest: m, Counts: im.Counts, LedgerSeq: im.LedgerHead.Seq,
		LedgerHash: hex.EncodeToString(im.LedgerHead.Hash), Seconds: s.now().Sub(start).Seconds()}
	if err := s.record(ctx, actor, Change{Action: "import", Kind: "hub", Target: "all",
		Detail: fmt.Sprintf("export of %s by %s: %d objects, ledger at %d", m.Created.Format(time.RFC3339), m.HubVersion,
			im.Counts[store.KindObject], im.LedgerHead.Seq)}); err != nil {
		return res, err
	}
	return res, nil
}
