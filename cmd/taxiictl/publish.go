package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"taxiihub/internal/convert"
)

// publishPartLines is the most lines of an IOC list or CSV file sent in one request: each line
// becomes up to four objects (an indicator, and with --observables an observable, an
// observed-data and a relationship), and the hub converts at most 10,000 objects per request.
const (
	publishPartLines            = 9_000
	publishPartLinesObservables = 2_400
)

// publishAnswer is the convert endpoint's answer.
type publishAnswer struct {
	Status struct {
		ID string `json:"id"`
	} `json:"status"`
	Lines []lineVerdict `json:"lines"`
}

type lineVerdict struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Where   string `json:"where,omitempty"`
	Input   string `json:"input,omitempty"`
	Kind    string `json:"kind,omitempty"`
	ID      string `json:"id,omitempty"`
	Verdict string `json:"verdict"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// publisher sends one publish run's parts to the hub and reports their verdicts.
type publisher struct {
	base, token, endpoint string
	query                 url.Values
	maxBody               int64
	partLines             int
	http                  *http.Client
	asJSON                bool
	stdout, stderr        io.Writer
	terminal              bool
	// counts are the verdicts so far, over every file.
	counts map[string]int
	lines  int
	start  time.Time
}

// runPublish implements taxiictl publish.
func runPublish(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cf conversionFlags
	cf.register(fs)
	hubURL := fs.String("url", "", "the hub's base URL (env TAXIIHUB_URL; default "+defaultURL+")")
	tokenFile := fs.String("token-file", "", "file holding the member's partner token (env TAXIIHUB_PARTNER_TOKEN_FILE)")
	collection := fs.String("collection", "", "ROOT/ALIAS (or ROOT/ID) of the collection to publish to")
	dryRun := fs.Bool("dry-run", false, "ask the hub what it would do, and store nothing")
	asJSON := fs.Bool("json", false, "print one JSON line per input line instead of text")
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "Usage: taxiictl publish --collection ROOT/ALIAS [--tlp NAME] [--valid-for DURATION] [--report TITLE] [--format auto|lines|csv|misp|stix] [--dry-run] [--json] FILE...")
		fmt.Fprintln(w, "Converts IOC lists, CSV files, MISP events or STIX bundles and publishes them to the collection with a partner")
		fmt.Fprintln(w, "token, printing a verdict per input line: stored, already present, refused (with the reason) or skipped.")
		fmt.Fprintln(w, "Exit status: 0 everything stored or already present, 1 something refused, 2 usage or unreadable input, 3 hub unreachable.")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "taxiictl publish: %v\n", err)
		usage(stderr)
		return exitUsage
	}
	files := fs.Args()
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "taxiictl publish: "+format+"\n", a...)
		return code
	}
	if len(files) == 0 || *collection == "" {
		usage(stderr)
		return exitUsage
	}
	root, coll, ok := strings.Cut(*collection, "/")
	if !ok || root == "" || coll == "" || strings.Contains(coll, "/") {
		return fail(exitUsage, "--collection %q: write ROOT/ALIAS, such as eu-japan/indicators", *collection)
	}
	opts, err := cf.options()
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	base := strings.TrimSuffix(cmp.Or(*hubURL, os.Getenv("TAXIIHUB_URL"), defaultURL), "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail(exitUsage, "the hub URL %q is not an http or https URL", base)
	}
	path := cmp.Or(*tokenFile, os.Getenv("TAXIIHUB_PARTNER_TOKEN_FILE"))
	if path == "" {
		return fail(exitUsage, "give the partner token with --token-file or TAXIIHUB_PARTNER_TOKEN_FILE")
	}
	token, err := readToken(path)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	p := &publisher{base: base, token: token, http: &http.Client{Timeout: requestTimeout}, asJSON: *asJSON,
		stdout: stdout, stderr: stderr, terminal: isTerminal(stderr), counts: map[string]int{}, start: time.Now()}
	if err := p.locate(root, coll); err != nil {
		return p.exit(err)
	}
	p.query = url.Values{}
	set := func(k, v string) {
		if v != "" {
			p.query.Set(k, v)
		}
	}
	set("tlp", opts.TLP)
	set("tlp_version", strconv.Itoa(opts.TLPVersion))
	set("valid_for", cf.validFor)
	set("report", opts.Report)
	set("description", opts.Description)
	set("labels", strings.Join(opts.Labels, ","))
	if opts.Confidence != nil {
		set("confidence", strconv.Itoa(*opts.Confidence))
	}
	if opts.Observables {
		set("observables", "true")
	}
	if *dryRun {
		set("dry_run", "true")
	}
	p.partLines = publishPartLines
	if opts.Observables {
		p.partLines = publishPartLinesObservables
	}
	for _, name := range files {
		if err := p.publishFile(name, stdin, opts.Format); err != nil {
			return p.exit(err)
		}
	}
	p.progress(true)
	if !p.asJSON {
		fmt.Fprintf(stdout, "%d stored, %d already present, %d accepted, %d refused, %d skipped\n",
			p.counts["stored"], p.counts["already present"], p.counts["accepted"], p.counts["refused"], p.counts["skipped"])
	}
	if p.counts["refused"] > 0 {
		return exitFailed
	}
	return exitOK
}

// exit prints err and returns its exit status.
func (p *publisher) exit(err error) int {
	fmt.Fprintf(p.stderr, "taxiictl publish: %v\n", err)
	var unreachable *unreachableError
	var input *inputError
	switch {
	case errors.As(err, &unreachable):
		return exitUnreachable
	case errors.As(err, &input):
		return exitUsage
	}
	return exitFailed
}

// locate finds the collection by alias or id, and the API root's max_content_length.
func (p *publisher) locate(root, coll string) error {
	var apiRoot struct {
		MaxContentLength int64 `json:"max_content_length"`
	}
	if err := p.get("/"+url.PathEscape(root)+"/", &apiRoot); err != nil {
		return err
	}
	var list struct {
		Collections []struct {
			ID       string `json:"id"`
			Alias    string `json:"alias"`
			CanWrite bool   `json:"can_write"`
		} `json:"collections"`
	}
	if err := p.get("/"+url.PathEscape(root)+"/collections/", &list); err != nil {
		return err
	}
	for _, c := range list.Collections {
		if c.ID == coll || c.Alias == coll {
			if !c.CanWrite {
				return fmt.Errorf("your token may not write into %s/%s", root, coll)
			}
			p.endpoint = "/" + url.PathEscape(root) + "/collections/" + url.PathEscape(c.ID) + "/x-taxiihub-convert/"
			// A part's body stays well under the limit: the query and headers are not part of it,
			// but a hub behind a proxy may count differently.
			p.maxBody = apiRoot.MaxContentLength - apiRoot.MaxContentLength/16
			if p.maxBody <= 0 {
				p.maxBody = 1 << 20
			}
			return nil
		}
	}
	return fmt.Errorf("%s/%s: no collection with that alias or id that your token opens", root, coll)
}

// get reads a TAXII resource.
func (p *publisher) get(path string, out any) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, p.base+path, nil)
	if err != nil {
		return &inputError{err}
	}
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	return p.send(req, out)
}

func (p *publisher) send(req *http.Request, out any) error {
	return exchange(p.http, p.base, p.token, req, out, "a taxiihub")
}

// publishFile sends one file: an IOC list or CSV file in parts of whole lines, each under the
// body limit, read as it is sent so that memory stays flat in the number of lines; a MISP event or
// STIX bundle whole.
func (p *publisher) publishFile(name string, stdin io.Reader, format convert.Format) error {
	in, closeIn, err := openInput(name, stdin)
	if err != nil {
		return &inputError{err}
	}
	defer closeIn()
	br := bufio.NewReaderSize(in, 1<<20)
	if format == convert.FormatAuto {
		format = sniffFormat(br)
	}
	if format == convert.FormatMISP || format == convert.FormatSTIX {
		body, err := io.ReadAll(io.LimitReader(br, p.maxBody+1))
		if err != nil {
			return &inputError{fmt.Errorf("read %s: %w", name, err)}
		}
		if int64(len(body)) > p.maxBody {
			if format == convert.FormatMISP {
				return &inputError{fmt.Errorf("%s is larger than the %d bytes one request to this hub may carry: a MISP event is converted whole, split it into smaller events", name, p.maxBody)}
			}
			return p.publishSTIXInParts(name, io.MultiReader(bytes.NewReader(body), br))
		}
		return p.sendPart(name, body, format, 0, 0, 0, nil)
	}
	var header []byte
	if format == convert.FormatCSV {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return &inputError{fmt.Errorf("read %s: %w", name, err)}
		}
		header = line
	}
	// first is the number, in the file, of the part's first line; a CSV part starts with the
	// header, which the hub counts as its line 1.
	offset := 0
	if header != nil {
		offset = 1
	}
	part := 0
	var buf bytes.Buffer
	for {
		buf.Reset()
		buf.Write(header)
		n := 0
		var readErr error
		for n == 0 || n < p.partLines && int64(buf.Len()) < p.maxBody-convert.MaxLineLength-2 {
			line, err := br.ReadSlice('\n')
			if errors.Is(err, bufio.ErrBufferFull) {
				// A line longer than any the hub converts: sent cut, for the hub to report it.
				buf.Write(line[:convert.MaxLineLength+1])
				for errors.Is(err, bufio.ErrBufferFull) {
					_, err = br.ReadSlice('\n')
				}
				buf.WriteByte('\n')
			} else {
				buf.Write(line)
			}
			if err != nil {
				readErr = err
				break
			}
			n++
		}
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			return &inputError{fmt.Errorf("read %s: %w", name, readErr)}
		}
		last := readErr != nil
		if !last {
			if _, err := br.Peek(1); err != nil {
				last = true
			}
		}
		part++
		reportPart := part
		if part == 1 && last {
			reportPart = 0
		}
		if buf.Len() > len(header) {
			lineOffset := offset
			if header != nil {
				lineOffset = offset - 1 // the hub's line 2 is the part's first row
			}
			if err := p.sendPart(name, buf.Bytes(), format, lineOffset, reportPart, n, nil); err != nil {
				return err
			}
		}
		offset += n
		if last {
			return nil
		}
	}
}

// publishSTIXInParts sends a STIX bundle or list of objects too large for one request as lists of
// whole objects, each under the body limit, decoded as they are sent so that memory stays about one
// part. Each verdict names its object by its place in the file (objects[N] of a bundle, [N] of a
// list), not in the part. An object larger than a request can carry is refused here, as the hub
// would refuse it, and its neighbours are sent.
func (p *publisher) publishSTIXInParts(name string, in io.Reader) error {
	dec := json.NewDecoder(in)
	prefix, err := openObjectList(dec)
	if err != nil {
		return &inputError{fmt.Errorf("%s: %w", name, err)}
	}
	var part bytes.Buffer
	sent, inPart, partNo := 0, 0, 0
	flush := func() error {
		if inPart == 0 {
			return nil
		}
		part.WriteByte(']')
		partNo++
		first := sent
		relabel := func(where string) string {
			var k int
			if _, err := fmt.Sscanf(where, "[%d]", &k); err != nil {
				return where
			}
			return fmt.Sprintf("%s[%d]", prefix, first+k)
		}
		err := p.sendPart(name, part.Bytes(), convert.FormatSTIX, 0, partNo, inPart, relabel)
		sent += inPart
		inPart = 0
		part.Reset()
		return err
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return &inputError{fmt.Errorf("%s: %s[%d]: %w", name, prefix, sent+inPart, err)}
		}
		if int64(len(raw))+2 > p.maxBody {
			if err := flush(); err != nil {
				return err
			}
			p.report(name, lineVerdict{Where: fmt.Sprintf("%s[%d]", prefix, sent), ID: objectID(raw), Verdict: "refused",
				Code: "object-too-large", Message: fmt.Sprintf("the object is %d bytes, more than one request to this hub may carry (%d)", len(raw), p.maxBody)})
			sent++
			continue
		}
		if inPart > 0 && int64(part.Len()+len(raw)+2) > p.maxBody {
			if err := flush(); err != nil {
				return err
			}
		}
		if inPart == 0 {
			part.WriteByte('[')
		} else {
			part.WriteByte(',')
		}
		part.Write(raw)
		inPart++
	}
	return flush()
}

// openObjectList reads a STIX document up to the first of its objects: a bundle's "objects" list
// (the bundle's other members are skipped; the parts sent carry only the objects) or a list of
// objects. It returns how a verdict names the objects' places: "objects" or "".
func openObjectList(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("not JSON: %w", err)
	}
	switch tok {
	case json.Delim('['):
		return "", nil
	case json.Delim('{'):
	default:
		return "", errors.New("a STIX input too large for one request must be a bundle or a list of objects")
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("not a bundle: %w", err)
		}
		if key == "objects" {
			if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
				return "", errors.New("a bundle's objects must be a list")
			}
			return "objects", nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", fmt.Errorf("not a bundle: %w", err)
		}
	}
	return "", errors.New("a STIX object too large for one request: only a bundle or a list of objects can be sent in parts")
}

// objectID is the id an object claims, or "" when it names none.
func objectID(raw json.RawMessage) string {
	var head struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &head) != nil {
		return ""
	}
	return head.ID
}

// sendPart posts one part and prints its verdicts, with line numbers counted in the whole file and,
// when relabel is given, places in the file it computes from places in the part.
func (p *publisher) sendPart(name string, body []byte, format convert.Format, lineOffset, reportPart, lines int, relabel func(string) string) error {
	q := url.Values{}
	for k, v := range p.query {
		q[k] = v
	}
	q.Set("format", string(format))
	if reportPart > 0 {
		q.Set("report_part", strconv.Itoa(reportPart))
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, p.base+p.endpoint+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return &inputError{err}
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Accept", "application/json")
	var answer publishAnswer
	if err := p.send(req, &answer); err != nil {
		return err
	}
	for _, l := range answer.Lines {
		if l.Line > 0 {
			l.Line += lineOffset
		}
		if relabel != nil && l.Where != "" {
			l.Where = relabel(l.Where)
		}
		if err := p.report(name, l); err != nil {
			return err
		}
	}
	p.lines += lines
	p.progress(false)
	return nil
}

// report counts and prints one verdict: a JSON line with --json, an aligned line otherwise.
func (p *publisher) report(name string, l lineVerdict) error {
	l.File = name
	p.counts[l.Verdict]++
	if p.asJSON {
		enc := json.NewEncoder(p.stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(l)
	}
	where := l.Where
	if l.Line > 0 {
		where = strconv.Itoa(l.Line)
	}
	detail := l.ID
	if l.Verdict == "refused" || l.Verdict == "skipped" {
		detail = strings.TrimSpace("[" + l.Code + "] " + l.Message)
		if l.Code == "" {
			detail = l.Message
		}
		if l.ID != "" {
			detail = l.ID + " " + detail
		}
	}
	fmt.Fprintf(p.stdout, "%-12s %-15s %-45s %s\n", name+":"+where, l.Verdict, l.Input, detail)
	return nil
}

// progress shows how far the run is: one line rewritten in place on a terminal, a plain line per
// part otherwise.
func (p *publisher) progress(final bool) {
	if p.asJSON && !p.terminal {
		return
	}
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.lines) / elapsed
	}
	msg := fmt.Sprintf("%d lines sent (%.0f/s): %d stored, %d already present, %d refused", p.lines, rate,
		p.counts["stored"]+p.counts["accepted"], p.counts["already present"], p.counts["refused"])
	switch {
	case p.terminal && final:
		fmt.Fprintf(p.stderr, "\r%s\n", msg)
	case p.terminal:
		fmt.Fprintf(p.stderr, "\r%s", msg)
	case !final:
		fmt.Fprintln(p.stderr, msg)
	}
}

// sniffFormat tells the format of a file the way the hub would, from its start.
func sniffFormat(br *bufio.Reader) convert.Format {
	head, _ := br.Peek(convert.MaxLineLength) // a short file gives what there is
	return convert.Sniff(head)
}

// isTerminal reports whether w is a character device, which is as much as a progress line needs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
