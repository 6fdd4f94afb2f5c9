package main

import (
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
	"path/filepath"
	"strings"
	"time"
)

// Where taxiictl looks for the hub and the operator token when neither flag nor environment says.
const (
	defaultURL     = "http://127.0.0.1:8080"
	defaultDataDir = "./taxiihub-data"
	tokenFileName  = "operator.token"
	// requestTimeout bounds each call to the hub, so that a hung hub cannot hang a script.
	requestTimeout = 60 * time.Second
	// maxAnswer bounds what taxiictl reads of an answer; the largest, a token list, is far smaller.
	maxAnswer = 32 << 20
)

// group is a command whose subcommands talk to the hub's admin API, such as "partnership".
type group struct {
	name    string
	actions []action
}

// action is one subcommand of a group, such as "partnership create".
type action struct {
	name     string
	synopsis string // arguments and flags of the action, for the usage line
	summary  string
	run      func(inv *invocation) error
}

// invocation is one run of an action: its flags, the connection flags every action shares, and
// where its output goes.
type invocation struct {
	name      string
	synopsis  string
	fs        *flag.FlagSet
	args      []string
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	getenv    func(string) string
	url       *string
	tokenFile *string
	asJSON    *bool
}

// run dispatches to the group's action and turns its error into an exit status.
func (g group) run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		g.usage(w)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, a := range g.actions {
		if a.name != args[0] {
			continue
		}
		inv := newInvocation(g.name+" "+a.name, a.synopsis, args[1:], stdin, stdout, stderr)
		return inv.exit(a.run(inv))
	}
	fmt.Fprintf(stderr, "taxiictl %s: unknown subcommand %q\n\n", g.name, args[0])
	g.usage(stderr)
	return exitUsage
}

// single makes a command of one action, such as apply.
func single(name string, a action) func(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return func(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
		inv := newInvocation(name, a.synopsis, args, stdin, stdout, stderr)
		return inv.exit(a.run(inv))
	}
}

func newInvocation(name, synopsis string, args []string, stdin io.Reader, stdout, stderr io.Writer) *invocation {
	inv := &invocation{
		name:     name,
		synopsis: synopsis,
		fs:       flag.NewFlagSet(name, flag.ContinueOnError),
		args:     args,
		stdin:    stdin,
		stdout:   stdout,
		stderr:   stderr,
		// The environment is read here, where a command starts, and nowhere deeper.
		getenv: os.Getenv,
	}
	inv.fs.SetOutput(io.Discard)
	inv.url = inv.fs.String("url", "", "the hub's base URL (env TAXIIHUB_URL; default "+defaultURL+")")
	inv.tokenFile = inv.fs.String("token-file", "",
		"file holding an operator token (env TAXIIHUB_TOKEN_FILE; default "+filepath.Join(defaultDataDir, tokenFileName)+")")
	inv.asJSON = inv.fs.Bool("json", false, "print the hub's answer as JSON, for scripts")
	return inv
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

func (g group) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: taxiictl %s <subcommand> [arguments]\n\nSubcommands:\n", g.name)
	for _, a := range g.actions {
		fmt.Fprintf(w, "  %s %s %s\n      %s\n", g.name, a.name, a.synopsis, a.summary)
	}
	fmt.Fprintf(w, "\nEvery subcommand also takes --url, --token-file and --json; run taxiictl %s <subcommand> -h for details.\n", g.name)
}

// Errors an action returns, by exit status.
type (
	// usageError is a mistake in the command line.
	usageError struct{ msg string }
	// inputError is an input that cannot be read: the spec file, the token file.
	inputError struct{ err error }
	// refusedError is an answer of the hub saying no.
	refusedError struct {
		status int
		body   errorBody
	}
	// unreachableError is a hub that did not answer at all.
	unreachableError struct {
		url string
		err error
	}
)

func (e *usageError) Error() string { return e.msg }
func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func (e *refusedError) Error() string {
	msg := fmt.Sprintf("the hub refused (%d %s)", e.status, http.StatusText(e.status))
	if d := cmp.Or(e.body.Description, e.body.Title); d != "" {
		msg += ": " + d
	}
	for _, p := range e.body.Details.Problems {
		msg += "\n  - " + p
	}
	if e.status == http.StatusUnauthorized {
		msg += "\n  (is the operator token current? see --token-file and TAXIIHUB_TOKEN_FILE)"
	}
	if e.body.ErrorID != "" && e.status >= http.StatusInternalServerError {
		msg += "\n  (error id " + e.body.ErrorID + ", for the hub's log)"
	}
	return msg
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach the hub at %s: %v (is it running? see --url and TAXIIHUB_URL)", e.url, e.err)
}

func (e *unreachableError) Unwrap() error { return e.err }

// errorBody is the admin API's error answer.
type errorBody struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	ErrorID     string `json:"error_id"`
	Details     struct {
		Problems []string `json:"problems"`
	} `json:"details"`
}

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// exit prints an action's error and says which exit status it calls for.
func (inv *invocation) exit(err error) int {
	if err == nil {
		return exitOK
	}
	var (
		usage       *usageError
		input       *inputError
		unreachable *unreachableError
	)
	switch {
	case errors.Is(err, flag.ErrHelp):
		inv.printUsage(inv.stdout)
		return exitOK
	}
	kind, status := "failed", exitFailed // the hub refused, or its answer made no sense
	var refused *refusedError
	switch {
	case errors.As(err, &usage):
		kind, status = "usage", exitUsage
	case errors.As(err, &input):
		kind, status = "input", exitUsage
	case errors.As(err, &unreachable):
		kind, status = "unreachable", exitUnreachable
	case errors.As(err, &refused):
		kind = "refused"
	}
	if inv.asJSON != nil && *inv.asJSON {
		inv.printJSONError(err, kind, status)
		return status
	}
	fmt.Fprintf(inv.stderr, "taxiictl %s: %v\n", inv.name, err)
	if kind == "usage" {
		inv.printUsage(inv.stderr)
	}
	return status
}

func (inv *invocation) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: taxiictl %s %s\n", inv.name, inv.synopsis)
	inv.fs.SetOutput(w)
	inv.fs.PrintDefaults()
	inv.fs.SetOutput(io.Discard)
}

// parse reads the flags, which may come before, between or after the arguments, and returns the
// arguments, of which there must be between min and max.
func (inv *invocation) parse(minArgs, maxArgs int) ([]string, error) {
	var positional []string
	rest := inv.args
	for {
		if err := inv.fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		rest = inv.fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		rest = rest[1:]
	}
	switch {
	case len(positional) < minArgs:
		return nil, usagef("missing arguments")
	case len(positional) > maxArgs:
		return nil, usagef("unexpected arguments: %s", strings.Join(positional[maxArgs:], " "))
	}
	return positional, nil
}

// hubClient calls the admin API with an operator token.
type hubClient struct {
	base  string
	token string
	http  *http.Client
}

// connect finds the hub and the operator token: flags first, then TAXIIHUB_URL and
// TAXIIHUB_TOKEN_FILE, then the defaults a hub started in the same directory uses.
func (inv *invocation) connect() (*hubClient, error) {
	base := cmp.Or(*inv.url, inv.getenv("TAXIIHUB_URL"), defaultURL)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("the hub URL %q is not an http or https URL", base)
	}
	path := cmp.Or(*inv.tokenFile, inv.getenv("TAXIIHUB_TOKEN_FILE"),
		filepath.Join(cmp.Or(inv.getenv("TAXIIHUB_DATA_DIR"), defaultDataDir), tokenFileName))
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, &inputError{fmt.Errorf("read the operator token: %w (see --token-file and TAXIIHUB_TOKEN_FILE)", err)}
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return nil, &inputError{fmt.Errorf("the operator token file %s is empty", path)}
	}
	return &hubClient{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{Timeout: requestTimeout}}, nil
}

// call sends body, if any, as JSON and decodes the answer into out, if any.
func (c *hubClient) call(method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode the request: %w", err)
		}
		reader = bytes.NewReader(b)
	}
	// The client's timeout bounds the call; there is nothing else to cancel it for.
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, reader)
	if err != nil {
		return fmt.Errorf("build the request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return exchange(c.http, c.base, c.token, req, out, "a taxiihub admin API")
}

// exchange sends req with the token and decodes the answer into out, if any. An answer that is
// not the hub's error resource (a proxy's, or that of something else at the URL) is said to come
// from elsewhere than speaker, the service taxiictl expected there.
func exchange(h *http.Client, base, token string, req *http.Request, out any, speaker string) error {
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", "taxiictl")
	resp, err := h.Do(req)
	if err != nil {
		return &unreachableError{url: base, err: err}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return &unreachableError{url: base, err: fmt.Errorf("read the answer: %w", err)}
	}
	if resp.StatusCode >= 300 {
		e := &refusedError{status: resp.StatusCode}
		if json.Unmarshal(answer, &e.body) != nil || e.body.Title == "" {
			e.body = errorBody{Description: "the answer is not from " + speaker + ": " + snippet(answer)}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("the hub's answer is not understood (%w): %s", err, snippet(answer))
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// output prints v as JSON with --json, else as text.
func (inv *invocation) output(v any, text func(w io.Writer)) error {
	if *inv.asJSON {
		enc := json.NewEncoder(inv.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(inv.stdout)
	return nil
}
