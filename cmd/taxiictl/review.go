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
	"strings"
	"text/tabwriter"
	"time"
)

// heldAnswer is the review API's answer about held objects.
type heldAnswer struct {
	Held []struct {
		StatusID    string          `json:"status_id"`
		Collection  string          `json:"collection"`
		Alias       string          `json:"collection_alias"`
		Publisher   string          `json:"publisher"`
		ID          string          `json:"id"`
		Version     string          `json:"version"`
		SubmittedAt time.Time       `json:"submitted_at"`
		Expires     time.Time       `json:"expires"`
		Warnings    string          `json:"warnings"`
		Object      json.RawMessage `json:"object"`
		Replaces    json.RawMessage `json:"replaces"`
		Changes     []struct {
			Property string          `json:"property"`
			Change   string          `json:"change"`
			Before   json.RawMessage `json:"before"`
			After    json.RawMessage `json:"after"`
		} `json:"changes"`
	} `json:"held"`
}

// runReview implements taxiictl review list|show|approve|reject, with a reviewer's partner token.
func runReview(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "Usage: taxiictl review list PARTNERSHIP [--collection C] [--publisher MEMBER] [--older-than 36h]")
		fmt.Fprintln(w, "       taxiictl review show PARTNERSHIP STATUS-ID")
		fmt.Fprintln(w, "       taxiictl review approve PARTNERSHIP STATUS-ID [--object ID]...")
		fmt.Fprintln(w, "       taxiictl review reject PARTNERSHIP STATUS-ID --reason TEXT [--object ID]...")
		fmt.Fprintln(w, "Lists, shows, releases or rejects objects held for review, with a reviewer's partner token")
		fmt.Fprintln(w, "(taxiictl token issue MEMBER --role reviewer). Without --object, approve and reject decide")
		fmt.Fprintln(w, "every object of the request the token may decide. Common flags: --url, --token-file, --json.")
	}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	sub := args[0]
	if sub == "-h" || sub == "--help" || sub == "help" {
		usage(stdout)
		return exitOK
	}
	fs := flag.NewFlagSet("review "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	hubURL := fs.String("url", "", "the hub's base URL (env TAXIIHUB_URL; default "+defaultURL+")")
	tokenFile := fs.String("token-file", "", "file holding the reviewer's partner token (env TAXIIHUB_PARTNER_TOKEN_FILE)")
	asJSON := fs.Bool("json", false, "print the hub's answer as JSON")
	collection := fs.String("collection", "", "list: only this collection (alias or id)")
	publisher := fs.String("publisher", "", "list: only this member's objects")
	olderThan := fs.Duration("older-than", 0, "list: only objects waiting at least this long")
	reason := fs.String("reason", "", "reject: why, which the publisher reads in its status")
	var objects repeated
	fs.Var(&objects, "object", "approve, reject: an object id of the request; repeat for more (none: all)")
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "taxiictl review %s: "+format+"\n", append([]any{sub}, a...)...)
		return code
	}
	// Flags may come before or after the positional arguments.
	var pos []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return fail(exitUsage, "%v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	want := map[string]int{"list": 1, "show": 2, "approve": 2, "reject": 2}[sub]
	if want == 0 {
		usage(stderr)
		return exitUsage
	}
	if len(pos) != want {
		return fail(exitUsage, "takes %d argument(s), got %d", want, len(pos))
	}
	if sub == "reject" && *reason == "" {
		return fail(exitUsage, "a rejection needs --reason: the publisher reads it in its status")
	}
	base := strings.TrimSuffix(cmp.Or(*hubURL, os.Getenv("TAXIIHUB_URL"), defaultURL), "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail(exitUsage, "the hub URL %q is not an http or https URL", base)
	}
	path := cmp.Or(*tokenFile, os.Getenv("TAXIIHUB_PARTNER_TOKEN_FILE"))
	if path == "" {
		return fail(exitUsage, "give the reviewer's partner token with --token-file or TAXIIHUB_PARTNER_TOKEN_FILE")
	}
	token, err := readToken(path)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	endpoint := base + "/" + url.PathEscape(pos[0]) + "/x-taxiihub-review/"
	method, body := http.MethodGet, []byte(nil)
	switch sub {
	case "list":
		q := url.Values{}
		for k, v := range map[string]string{"collection": *collection, "publisher": *publisher} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if *olderThan > 0 {
			q.Set("older_than", olderThan.String())
		}
		if len(q) > 0 {
			endpoint += "?" + q.Encode()
		}
	case "show":
		endpoint += url.PathEscape(pos[1]) + "/"
	default:
		endpoint += url.PathEscape(pos[1]) + "/"
		method = http.MethodPost
		decision := map[string]any{"decision": map[string]string{"approve": "approve", "reject": "reject"}[sub], "objects": []string(objects)}
		if *reason != "" {
			decision["reason"] = *reason
		}
		body, _ = json.Marshal(decision)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, endpoint, bytes.NewReader(body))
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	if body != nil {
		req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	}
	var raw json.RawMessage
	if err := exchange(&http.Client{Timeout: requestTimeout}, base, token, req, &raw, "a taxiihub"); err != nil {
		fmt.Fprintf(stderr, "taxiictl review %s: %v\n", sub, err)
		var unreachable *unreachableError
		if errors.As(err, &unreachable) {
			return exitUnreachable
		}
		return exitFailed
	}
	if *asJSON {
		fmt.Fprintln(stdout, string(raw))
		return exitOK
	}
	return printReview(sub, raw, stdout, stderr)
}

func printReview(sub string, raw json.RawMessage, stdout, stderr io.Writer) int {
	if sub == "approve" || sub == "reject" {
		var res struct {
			Decided []struct{ ID, Version, Message string } `json:"decided"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			fmt.Fprintf(stderr, "taxiictl review %s: %v\n", sub, err)
			return exitFailed
		}
		for _, d := range res.Decided {
			fmt.Fprintf(stdout, "%s %s: %s\n", d.ID, orDash(d.Version), d.Message)
		}
		return exitOK
	}
	var held heldAnswer
	if err := json.Unmarshal(raw, &held); err != nil {
		fmt.Fprintf(stderr, "taxiictl review %s: %v\n", sub, err)
		return exitFailed
	}
	if sub == "list" {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "REQUEST\tCOLLECTION\tPUBLISHER\tOBJECT\tWAITING\tEXPIRES")
		for _, h := range held.Held {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.StatusID, cmp.Or(h.Alias, h.Collection), h.Publisher, h.ID,
				time.Since(h.SubmittedAt).Round(time.Minute), h.Expires.UTC().Format(time.RFC3339))
		}
		tw.Flush()
		return exitOK
	}
	for _, h := range held.Held {
		fmt.Fprintf(stdout, "%s %s (collection %s, publisher %s, expires %s)\n", h.ID, orDash(h.Version),
			cmp.Or(h.Alias, h.Collection), h.Publisher, h.Expires.UTC().Format(time.RFC3339))
		if len(h.Replaces) == 0 {
			fmt.Fprintln(stdout, "  new: the collection holds no version of it you may read")
		}
		for _, c := range h.Changes {
			fmt.Fprintf(stdout, "  %s %s: %s → %s\n", c.Change, c.Property, orDash(string(c.Before)), orDash(string(c.After)))
		}
		fmt.Fprintf(stdout, "  %s\n", h.Object)
	}
	return exitOK
}
