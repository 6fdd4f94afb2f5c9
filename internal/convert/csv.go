package convert

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Columns are the columns a CSV file may have, named in its header in any order. Only value is
// required; type, when empty, is detected as in an IOC list.
var Columns = []string{"value", "type", "description", "valid_until", "labels", "confidence"}

// csvTypes are the type column's spellings of each kind, besides the kind's own name.
var csvTypes = map[string]Kind{
	"ip": "", "ipv4": IPv4, "ipv6": IPv6, "domain": Domain, "hostname": Domain, "email": Email,
	"sha1": SHA1, "sha256": SHA256, "sha512": SHA512, "filename": FileName, "file": FileName,
	"asn": ASN, "as": ASN, "cve": Vulnerability,
}

func csvKind(s string) (Kind, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "auto" || s == "ip" {
		return "", true
	}
	for _, k := range kinds {
		if string(k) == s {
			return k, true
		}
	}
	k, ok := csvTypes[s]
	return k, ok
}

// csv reads a CSV file with a header row. Columns it does not know are reported once, on the
// header's line, and ignored.
func (c *Converter) csv(br *bufio.Reader) (func() (Item, error), error) {
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("convert: CSV header: %w", err)
	}
	col := map[string]int{}
	var unknown []string
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := false
		for _, k := range Columns {
			known = known || k == name
		}
		if !known {
			unknown = append(unknown, strconv.Quote(h))
			continue
		}
		if _, dup := col[name]; dup {
			return nil, fmt.Errorf("convert: CSV header names %s twice", name)
		}
		col[name] = i
	}
	if _, ok := col["value"]; !ok {
		return nil, fmt.Errorf("convert: the CSV header has no value column (columns: %s)", strings.Join(Columns, ","))
	}
	field := func(rec []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	noteSent := len(unknown) == 0
	return func() (Item, error) {
		if !noteSent {
			noteSent = true
			return Item{Line: 1, Where: "header", Note: fmt.Sprintf("unknown columns ignored: %s (known: %s)",
				strings.Join(unknown, ", "), strings.Join(Columns, ","))}, nil
		}
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				return Item{}, io.EOF
			}
			line, _ := r.FieldPos(0)
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				return Item{Line: perr.StartLine, Issue: issuef(CodeInvalid, "not CSV: %v", perr.Err)}, nil
			}
			if err != nil {
				return Item{}, fmt.Errorf("convert: read CSV: %w", err)
			}
			value := field(rec, "value")
			if value == "" || strings.HasPrefix(value, "#") {
				continue
			}
			it := Item{Line: line, Input: value}
			if !utf8.ValidString(strings.Join(rec, ",")) {
				it.Input = strings.ToValidUTF8(value, "\uFFFD")
				it.Issue = issuef(CodeInvalid, "the row is not UTF-8")
				return it, nil
			}
			meta, issue := csvMeta(field(rec, "description"), field(rec, "labels"), field(rec, "confidence"), field(rec, "valid_until"))
			if issue != nil {
				it.Issue = issue
				return it, nil
			}
			kind, ok := csvKind(field(rec, "type"))
			if !ok {
				it.Issue = issuef(CodeUnsupported, "type %q is not one the converter knows (%s)", field(rec, "type"), kindList())
				return it, nil
			}
			var ioc IOC
			if kind == "" {
				ioc, issue = DetectLine(value)
			} else {
				ioc, issue = ParseValue(kind, value)
			}
			if issue != nil {
				it.Issue = issue
				return it, nil
			}
			return c.fill(it, ioc, meta), nil
		}
	}, nil
}

// csvMeta reads the optional columns of a row.
func csvMeta(description, labels, confidence, validUntil string) (Meta, *Issue) {
	m := Meta{Description: description}
	for _, l := range strings.Split(labels, ";") {
		if l = strings.TrimSpace(l); l != "" {
			m.Labels = append(m.Labels, l)
		}
	}
	if confidence != "" {
		n, err := strconv.Atoi(confidence)
		if err != nil || n < 0 || n > 100 {
			return m, issuef(CodeInvalid, "confidence %q is not a whole number from 0 to 100", confidence)
		}
		m.Confidence = &n
	}
	if validUntil != "" {
		t, err := time.Parse(time.RFC3339Nano, validUntil)
		if err != nil {
			if t, err = time.Parse("2006-01-02", validUntil); err != nil {
				return m, issuef(CodeInvalid, "valid_until %q is neither an RFC 3339 timestamp nor a date (2026-12-31)", validUntil)
			}
		}
		m.ValidUntil = t.UTC()
	}
	return m, nil
}
