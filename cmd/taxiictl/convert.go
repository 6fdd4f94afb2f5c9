package main

import (
	"bufio"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"

	"taxiihub/internal/convert"
)

// conversionFlags are the flags convert and publish share.
type conversionFlags struct {
	tlp, tlpVersion, validFor, report, format, description, labels string
	confidence                                                     int
	observables                                                    bool
}

func (f *conversionFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.tlp, "tlp", "", "mark every object TLP clear, green, amber, amber+strict or red (MISP tlp: tags apply otherwise)")
	fs.StringVar(&f.tlpVersion, "tlp-version", "2", "the TLP marking definitions to use: 2 (TLP 2.0) or 1 (TLP 1.0), as the partners expect")
	fs.StringVar(&f.validFor, "valid-for", "default", "lifetime of every indicator (30d, 720h), none, or default (per kind: IPs 30d, domains and URLs 90d, hashes 365d, ...)")
	fs.StringVar(&f.report, "report", "", "tie the submission together in a report with this title")
	fs.StringVar(&f.format, "format", "auto", "input format: auto, lines, csv, misp or stix")
	fs.StringVar(&f.description, "description", "", "description of every indicator without one of its own")
	fs.StringVar(&f.labels, "labels", "", "comma-separated labels for every object")
	fs.IntVar(&f.confidence, "confidence", -1, "confidence (0-100) of every indicator without one of its own")
	fs.BoolVar(&f.observables, "observables", false, "add each IOC's observable, in an observed-data the indicator is based on")
}

// options turns the flags into conversion options.
func (f *conversionFlags) options() (convert.Options, error) {
	var o convert.Options
	var err error
	if o.Format, err = convert.ParseFormat(f.format); err != nil {
		return o, usagef("--format %q: auto, lines, csv, misp or stix", f.format)
	}
	if f.tlp != "" && convert.NormaliseTLP(f.tlp) == "" {
		return o, usagef("--tlp %q: clear, green, amber, amber+strict or red", f.tlp)
	}
	o.TLP = f.tlp
	switch f.tlpVersion {
	case "1":
		o.TLPVersion = 1
	case "2", "":
		o.TLPVersion = 2
	default:
		return o, usagef("--tlp-version %q: 1 or 2", f.tlpVersion)
	}
	if o.ValidFor, err = convert.ParseValidFor(f.validFor); err != nil {
		return o, usagef("--valid-for %q: a duration such as 30d or 720h, none, or default", f.validFor)
	}
	o.Report, o.Description = f.report, f.description
	for _, l := range strings.Split(f.labels, ",") {
		if l = strings.TrimSpace(l); l != "" {
			o.Labels = append(o.Labels, l)
		}
	}
	if f.confidence >= 0 {
		if f.confidence > 100 {
			return o, usagef("--confidence %d: 0 to 100", f.confidence)
		}
		c := f.confidence
		o.Confidence = &c
	}
	o.Observables = f.observables
	return o, nil
}

// runConvert implements taxiictl convert: it converts one file offline and prints the STIX bundle,
// written object by object as the input is read.
func runConvert(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf conversionFlags
	cf.register(fs)
	member := fs.String("member", "", "member id the objects are created by (env TAXIIHUB_MEMBER; else the sub of --token-file's token)")
	tokenFile := fs.String("token-file", "", "partner token whose member creates the objects (env TAXIIHUB_PARTNER_TOKEN_FILE)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: taxiictl convert [--tlp NAME] [--valid-for DURATION] [--report TITLE] [--format auto|lines|csv|misp|stix] [--member ID | --token-file FILE] FILE|-")
		fmt.Fprintln(stderr, "Converts an IOC list, a CSV file, a MISP event or a STIX bundle into a STIX 2.1 bundle on standard output, offline.")
		fmt.Fprintln(stderr, "Lines that cannot be converted are reported on standard error.")
		fmt.Fprintln(stderr, "Exit status: 0 every line converted, 1 some line could not be, 2 usage or unreadable input.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	opts, err := cf.options()
	if err != nil {
		fmt.Fprintf(stderr, "taxiictl convert: %v\n", err)
		return exitUsage
	}
	opts.Member, err = memberOf(cmp.Or(*member, os.Getenv("TAXIIHUB_MEMBER")), cmp.Or(*tokenFile, os.Getenv("TAXIIHUB_PARTNER_TOKEN_FILE")))
	if err != nil {
		fmt.Fprintf(stderr, "taxiictl convert: %v\n", err)
		return exitUsage
	}
	in, closeIn, err := openInput(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "taxiictl convert: %v\n", err)
		return exitUsage
	}
	defer closeIn()
	conv, err := convert.New(in, opts)
	if err != nil {
		fmt.Fprintf(stderr, "taxiictl convert: %v\n", err)
		return exitUsage
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	fmt.Fprintf(out, "{\n  \"type\": \"bundle\",\n  \"id\": \"bundle--%s\",\n  \"objects\": [", uuid.NewString())
	status, first := exitOK, true
	for {
		it, err := conv.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(stderr, "taxiictl convert: %v\n", err)
			return exitUsage
		}
		if it.Issue != nil {
			fmt.Fprintf(stderr, "%s: %s: [%s] %s\n", fs.Arg(0), position(it), it.Issue.Code, it.Issue.Message)
			status = exitInvalid
		} else if it.Note != "" {
			fmt.Fprintf(stderr, "%s: %s: %s\n", fs.Arg(0), position(it), it.Note)
		}
		for _, o := range it.Objects {
			raw, err := o.JSON()
			if err != nil {
				fmt.Fprintf(stderr, "taxiictl convert: %v\n", err)
				return exitUsage
			}
			if !first {
				out.WriteString(",")
			}
			first = false
			out.WriteString("\n    ")
			out.Write(raw)
		}
	}
	out.WriteString("\n  ]\n}\n")
	return status
}

// position names where an item came from: its line, or its place in a MISP event or bundle.
func position(it convert.Item) string {
	if it.Line > 0 {
		return fmt.Sprintf("line %d", it.Line)
	}
	return it.Where
}

func openInput(name string, stdin io.Reader) (io.Reader, func(), error) {
	if name == "-" {
		return stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// memberOf is the member given, or the subject of the partner token in tokenFile. The token is not
// verified here: it only names whose objects the offline conversion makes; the hub checks it when
// the objects are published.
func memberOf(member, tokenFile string) (string, error) {
	if member != "" {
		return member, nil
	}
	if tokenFile == "" {
		return "", errors.New("name the member the objects are created by: --member, TAXIIHUB_MEMBER or --token-file")
	}
	token, err := readToken(tokenFile)
	if err != nil {
		return "", err
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("%s does not hold a hub token", tokenFile)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Sub string `json:"sub"`
	}
	if err != nil || json.Unmarshal(payload, &claims) != nil || claims.Sub == "" {
		return "", fmt.Errorf("%s does not hold a hub token", tokenFile)
	}
	return claims.Sub, nil
}

func readToken(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the partner token: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return "", fmt.Errorf("the token file %s is empty", path)
	}
	return token, nil
}
