package convert

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Format is the kind of input.
type Format string

// The formats the converter reads.
const (
	FormatAuto  Format = "auto"
	FormatLines Format = "lines" // an IOC list: one per line, # comments
	FormatCSV   Format = "csv"   // a header naming the Columns, then one IOC per row
	FormatMISP  Format = "misp"  // a MISP event, as MISP exports it in JSON
	FormatSTIX  Format = "stix"  // a STIX bundle, list of objects or object: let through unchanged
)

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", FormatAuto:
		return FormatAuto, nil
	case FormatLines, FormatCSV, FormatMISP, FormatSTIX:
		return f, nil
	}
	return "", fmt.Errorf("convert: unknown format %q (auto, lines, csv, misp, stix)", s)
}

// Limits of the input, each enforced before the memory is spent.
const (
	// MaxLineLength is the longest line of an IOC list or CSV file; a longer line is reported and
	// skipped, and the lines after it are read.
	MaxLineLength = 64 << 10
	// MaxMISPSize is the largest MISP event: an event is one JSON document, read whole.
	MaxMISPSize = 32 << 20
	// MaxReportRefs is the most objects one report ties together; beyond it the report is left out
	// and a note says so (publish splits a submission into parts, each with a report of its own).
	MaxReportRefs = 100_000
)

// Options say how to convert.
type Options struct {
	// Member is the publishing member: created_by_ref is its identity and the ids are derived from it.
	Member string
	// TLP is the level of the marking every object gets (clear, green, amber, amber+strict, red,
	// TLP:GREEN, ...); "" marks nothing, and MISP tlp: tags then apply.
	TLP string
	// TLPVersion is 1 for the TLP 1.0 marking definitions, 2 (the default) for TLP 2.0.
	TLPVersion int
	// ValidFor is every indicator's lifetime; 0 takes the kind's default (DefaultLifetimes), and a
	// negative value gives no valid_until.
	ValidFor time.Duration
	// Report, when not empty, is the title of a report tying the submission's objects together.
	Report string
	// ReportPart numbers the report when a submission is sent in parts, each with its own report.
	ReportPart int
	// Description, Labels and Confidence go on every object that does not carry its own.
	Description string
	Labels      []string
	Confidence  *int
	// Observables adds each IOC's cyber-observable and a based-on relationship to it.
	Observables bool
	Format      Format
	// Now is the time of the conversion: created, modified and valid_from of new objects.
	Now time.Time
}

// Item is what one input line (or MISP attribute, or STIX object) became.
type Item struct {
	// Line is the line number in a list or CSV file; 0 for MISP and STIX input, where Where says.
	Line  int
	Where string
	// Input is the indicator as written.
	Input string
	Kind  Kind
	// Value is the normalised indicator; Pattern the indicator's pattern.
	Value   string
	Pattern string
	// ID is the id of the item's indicator (vulnerability, or let-through object).
	ID string
	// Objects go out with the item: the marking definitions it is the first to use, then its own.
	Objects []Object
	// Issue says why the item gave no object; Note is something to tell that is no refusal.
	Issue *Issue
	Note  string
}

// Converter reads one input and returns its items one at a time, so that memory stays flat in
// the number of lines (a MISP event, one JSON document, is the exception).
type Converter struct {
	opts         Options
	format       Format
	now          time.Time
	next         func() (Item, error)
	markingsSent map[string]bool
	pending      []Object
	reportRefs   []string
	reportNote   bool
}

// New starts a conversion of r.
func New(r io.Reader, opts Options) (*Converter, error) {
	if opts.Member == "" {
		return nil, errors.New("convert: no member: created_by_ref and ids are derived from it")
	}
	if opts.TLPVersion == 0 {
		opts.TLPVersion = 2
	}
	if opts.TLPVersion != 1 && opts.TLPVersion != 2 {
		return nil, fmt.Errorf("convert: TLP version %d: use 1 or 2", opts.TLPVersion)
	}
	if opts.TLP != "" && NormaliseTLP(opts.TLP) == "" {
		return nil, fmt.Errorf("convert: %q is no TLP level (clear, green, amber, amber+strict, red)", opts.TLP)
	}
	if opts.TLPVersion == 1 && NormaliseTLP(opts.TLP) == "amber+strict" {
		return nil, errors.New("convert: TLP:AMBER+STRICT has no TLP 1.0 form; use TLP version 2")
	}
	if opts.Confidence != nil && (*opts.Confidence < 0 || *opts.Confidence > 100) {
		return nil, fmt.Errorf("convert: confidence %d is outside 0..100", *opts.Confidence)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	c := &Converter{opts: opts, now: opts.Now.UTC().Truncate(time.Millisecond), markingsSent: map[string]bool{}}
	br := bufio.NewReaderSize(r, MaxLineLength+1)
	format := opts.Format
	if format == "" || format == FormatAuto {
		format = sniff(br)
	}
	c.format = format
	var err error
	switch format {
	case FormatLines:
		c.next = c.lines(br)
	case FormatCSV:
		c.next, err = c.csv(br)
	case FormatMISP:
		c.next, err = c.misp(br)
	case FormatSTIX:
		c.next, err = c.stix(br)
	default:
		return nil, fmt.Errorf("convert: unknown format %q", format)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// sniff tells the format from the start of the input: JSON with an Event is MISP, other JSON is
// STIX, a first line naming a value column is CSV, anything else an IOC list.
func sniff(br *bufio.Reader) Format {
	head, _ := br.Peek(MaxLineLength) // short input gives what there is
	return Sniff(head)
}

// Sniff tells the format of an input from its first bytes (up to MaxLineLength of them).
func Sniff(head []byte) Format {
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		if bytes.Contains(head, []byte(`"Event"`)) || bytes.Contains(head, []byte(`"Attribute"`)) {
			return FormatMISP
		}
		return FormatSTIX
	}
	first, _, _ := bytes.Cut(trimmed, []byte("\n"))
	cols := strings.Split(strings.ToLower(strings.TrimSpace(string(first))), ",")
	if len(cols) > 1 && strings.Trim(strings.TrimSpace(cols[0]), `"`) == "value" {
		return FormatCSV
	}
	return FormatLines
}

// Format is the input's format, as given or as told from the input.
func (c *Converter) Format() Format { return c.format }

// Next returns the next item, or io.EOF after the last; the report, if any, comes as the last item.
func (c *Converter) Next() (Item, error) {
	it, err := c.next()
	if errors.Is(err, io.EOF) {
		if rep, ok := c.report(); ok {
			c.next = func() (Item, error) { return Item{}, io.EOF }
			return rep, nil
		}
		return Item{}, io.EOF
	}
	if err != nil {
		return Item{}, err
	}
	if len(c.pending) > 0 && it.Issue == nil {
		it.Objects = append(c.pending, it.Objects...)
		c.pending = nil
	}
	if c.opts.Report != "" && it.Issue == nil && it.ID != "" {
		if len(c.reportRefs) < MaxReportRefs {
			c.reportRefs = append(c.reportRefs, it.ID)
		} else if !c.reportNote {
			c.reportNote = true
			it.Note = fmt.Sprintf("the report ties the first %d objects together only", MaxReportRefs)
		}
	}
	return it, nil
}

// report is the item of the report tying the conversion's objects together.
func (c *Converter) report() (Item, bool) {
	if c.opts.Report == "" || len(c.reportRefs) == 0 {
		return Item{}, false
	}
	title := c.opts.Report
	if c.opts.ReportPart > 0 {
		title = fmt.Sprintf("%s (part %d)", c.opts.Report, c.opts.ReportPart)
	}
	var refs []string
	marking, _ := c.marking(c.opts.TLP) // checked in New
	if marking != "" {
		refs = []string{marking}
	}
	rep := &SDO{Type: "report", SpecVersion: "2.1", ID: deterministicID("report", c.opts.Member, title),
		CreatedByRef: identityOf(c.opts.Member), Name: title, Description: c.opts.Description,
		ReportTypes: []string{"indicator"}, ObjectRefs: c.reportRefs, ObjectMarkingRefs: refs}
	rep.SetTimes(c.now, c.now, c.now)
	objs := append(c.pending, Object{SDO: rep})
	c.pending, c.reportRefs = nil, nil
	return Item{Where: "report", Input: title, ID: rep.ID, Objects: objs}, true
}

// lines reads an IOC list.
func (c *Converter) lines(br *bufio.Reader) func() (Item, error) {
	n := 0
	return func() (Item, error) {
		for {
			line, tooLong, err := readLine(br)
			if err != nil {
				return Item{}, err
			}
			n++
			if tooLong {
				return Item{Line: n, Input: truncate(line, 80), Issue: issuef(CodeInvalid, "the line is longer than %d bytes", MaxLineLength)}, nil
			}
			text := strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			if i := strings.Index(text, " #"); i >= 0 {
				text = strings.TrimSpace(text[:i])
			}
			if i := strings.Index(text, "\t#"); i >= 0 {
				text = strings.TrimSpace(text[:i])
			}
			it := Item{Line: n, Input: text}
			if !utf8.ValidString(text) {
				it.Input = strings.ToValidUTF8(text, "\uFFFD")
				it.Issue = issuef(CodeInvalid, "the line is not UTF-8")
				return it, nil
			}
			ioc, issue := DetectLine(text)
			if issue != nil {
				it.Issue = issue
				return it, nil
			}
			return c.fill(it, ioc, Meta{}), nil
		}
	}
}

// fill converts a recognised IOC into the item's objects.
func (c *Converter) fill(it Item, ioc IOC, meta Meta) Item {
	it.Kind, it.Value, it.Pattern = ioc.Kind, ioc.Value, ioc.Pattern()
	objs, id, issue := c.makeObjects(ioc, "", "", meta, nil)
	if issue != nil {
		it.Issue = issue
		return it
	}
	it.ID, it.Objects = id, objs
	return it
}

// readLine reads one line without its end. A line longer than MaxLineLength is skipped to its
// end and reported as too long; the error is io.EOF after the last line.
func readLine(br *bufio.Reader) (string, bool, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		head := string(line[:80])
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, fmt.Errorf("convert: read: %w", err)
		}
		return head, true, nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("convert: read: %w", err)
	}
	if len(line) == 0 && errors.Is(err, io.EOF) {
		return "", false, io.EOF
	}
	return strings.TrimRight(string(line), "\r\n"), false, nil
}

// ParseValidFor reads a lifetime as the command line and the HTTP endpoint take it: a Go duration
// (720h), a number of days (30d), "default" or "" for the per-kind defaults, or "none" for no
// valid_until at all.
func ParseValidFor(s string) (time.Duration, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "default":
		return 0, nil
	case "none":
		return -1, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 36500 {
			return 0, fmt.Errorf("convert: valid-for %q: a number of days from 1 to 36500, such as 30d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("convert: valid-for %q: a duration of a minute or more (90m, 720h, 30d) or none", s)
	}
	return d, nil
}
