package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/convert"
	"taxiihub/internal/sharing"
	"taxiihub/internal/taxii"
)

// ConvertPath is the extension endpoint, below a collection, that converts what analysts hold (IOC
// lists, CSV, MISP events, STIX bundles) and publishes the result as a POST of objects would. It
// lies outside the TAXII paths' semantics: it takes plain text, CSV or MISP JSON, answers plain
// JSON, and does not negotiate TAXII media types, so that a script or a browser console can call
// it as it is.
const ConvertPath = "x-taxiihub-convert"

func (a *api) mountConvert(e *gin.Engine) {
	g := e.Group("/", a.authenticate, a.limitMembers)
	route(g, http.MethodPost, "/:root/collections/:collection/"+ConvertPath+"/", a.handle(a.convert))
}

// convertAnswer is the endpoint's answer: the TAXII status of the publication, a verdict per line,
// and the verdicts counted.
type convertAnswer struct {
	Status taxii.Status          `json:"status"`
	Counts map[string]int        `json:"counts"`
	Lines  []sharing.LineVerdict `json:"lines"`
}

// convert converts the body and publishes the result: 202 with the answer, or with dry_run=true
// 200 with the answer the real request would get.
func (a *api) convert(c *gin.Context) error {
	acc, err := a.access(c)
	if err != nil {
		return err
	}
	if err := acc.RequireWrite(); err != nil {
		return err
	}
	opts, dryRun, err := convertOptions(c)
	if err != nil {
		return err
	}
	if opts.Format == convert.FormatAuto {
		if opts.Format, err = formatOfBody(c.GetHeader("Content-Type")); err != nil {
			return err
		}
	}
	if c.Request.ContentLength > a.maxContentLength {
		return &requestError{status: http.StatusRequestEntityTooLarge, code: "too-large", title: "Request too large",
			description: "The body is larger than max_content_length (" + strconv.FormatInt(a.maxContentLength, 10) + " bytes); send it in parts."}
	}
	// The same ingest budget as a POST of objects: a conversion holds its body's objects too (at
	// most 10,000 of them, whatever the body's size).
	release, err := a.reserveBody(c)
	if err != nil {
		return err
	}
	defer release()
	body := &readErrors{r: http.MaxBytesReader(c.Writer, c.Request.Body, a.maxContentLength)}
	conv, err := a.sharing.PublishConversion(c.Request.Context(), acc, body, opts, dryRun)
	if err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(body.err, &tooLarge):
			// The body itself failed: that, not the conversion, is the answer.
			return tooLarge
		case body.err != nil:
			return &requestError{status: http.StatusBadRequest, code: "unreadable-body", title: "Unreadable body",
				description: "The request body could not be read completely.", cause: body.err}
		}
		return err
	}
	answer := convertAnswer{Status: taxii.NewStatus(conv.Status), Counts: map[string]int{}, Lines: conv.Lines}
	for _, l := range conv.Lines {
		answer.Counts[l.Verdict]++
	}
	code := http.StatusAccepted
	if dryRun {
		code = http.StatusOK
	}
	c.JSON(code, answer)
	return nil
}

// formatOfBody tells the input format from the body's media type.
func formatOfBody(contentType string) (convert.Format, error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err == nil {
		switch mediaType {
		case "text/plain":
			return convert.FormatLines, nil
		case "text/csv":
			return convert.FormatCSV, nil
		case "application/json":
			return convert.FormatMISP, nil
		case stixType, taxiiType:
			return convert.FormatSTIX, nil
		}
	}
	return "", &requestError{status: http.StatusUnsupportedMediaType, code: "unsupported-media-type", title: "Unsupported media type",
		description: "Send an IOC list as text/plain, CSV as text/csv, a MISP event as application/json or a STIX bundle as application/stix+json, or name the format with ?format=."}
}

// convertOptions reads the query: format, tlp, tlp_version, valid_for, report, report_part,
// description, labels (comma-separated), confidence, observables, dry_run.
func convertOptions(c *gin.Context) (convert.Options, bool, error) {
	var opts convert.Options
	q := c.Request.URL.Query()
	for name, values := range q {
		switch name {
		case "format", "tlp", "tlp_version", "valid_for", "report", "report_part", "description", "labels",
			"confidence", "observables", "dry_run":
		default:
			return opts, false, badQuery(name, "is not a parameter of this endpoint (format, tlp, tlp_version, valid_for, report, report_part, description, labels, confidence, observables, dry_run)")
		}
		if len(values) != 1 {
			return opts, false, badQuery(name, "must be given once")
		}
	}
	var err error
	if opts.Format, err = convert.ParseFormat(q.Get("format")); err != nil {
		return opts, false, badQuery("format", "must be auto, lines, csv, misp or stix")
	}
	opts.TLP = q.Get("tlp")
	if opts.TLP != "" && convert.NormaliseTLP(opts.TLP) == "" {
		return opts, false, badQuery("tlp", "must be clear, green, amber, amber+strict or red")
	}
	if v := q.Get("tlp_version"); v != "" {
		if opts.TLPVersion, err = strconv.Atoi(v); err != nil || (opts.TLPVersion != 1 && opts.TLPVersion != 2) {
			return opts, false, badQuery("tlp_version", "must be 1 or 2")
		}
	}
	if opts.ValidFor, err = convert.ParseValidFor(q.Get("valid_for")); err != nil {
		return opts, false, badQuery("valid_for", "must be a duration such as 720h or 30d, or none")
	}
	opts.Report = q.Get("report")
	if v := q.Get("report_part"); v != "" {
		if opts.ReportPart, err = strconv.Atoi(v); err != nil || opts.ReportPart < 1 {
			return opts, false, badQuery("report_part", "must be a whole number from 1")
		}
	}
	opts.Description = q.Get("description")
	for _, l := range strings.Split(q.Get("labels"), ",") {
		if l = strings.TrimSpace(l); l != "" {
			opts.Labels = append(opts.Labels, l)
		}
	}
	if v := q.Get("confidence"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return opts, false, badQuery("confidence", "must be a whole number from 0 to 100")
		}
		opts.Confidence = &n
	}
	if opts.Observables, err = boolParam(c, "observables"); err != nil {
		return opts, false, err
	}
	dryRun, err := boolParam(c, "dry_run")
	return opts, dryRun, err
}

// readErrors keeps the error a body read failed with, other than its end, so that a body over the
// limit is answered 413 whatever the converter made of the error.
type readErrors struct {
	r   io.Reader
	err error
}

func (b *readErrors) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}
