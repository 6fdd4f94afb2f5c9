package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"taxiihub/internal/stix"
)

// runValidate implements taxiictl validate [--json] [--warnings] FILE...: it validates each file
// (a bundle, a TAXII envelope, a list of objects or one object; - reads standard input) and
// exits 0 when every object is valid, 1 when any is invalid and 2 when a file cannot be read.
func runValidate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON line per file instead of text")
	warnings := fs.Bool("warnings", false, "list SHOULD-level warnings in the text output, not just count them")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: taxiictl validate [--json] [--warnings] FILE...")
		fmt.Fprintln(stderr, "Validates STIX 2.1 bundles, TAXII envelopes or objects; - reads standard input.")
		fmt.Fprintln(stderr, "Exit status: 0 all objects valid, 1 some invalid, 2 a file could not be read.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}

	v, err := stix.NewValidator()
	if err != nil {
		fmt.Fprintf(stderr, "taxiictl: %v\n", err)
		return exitUsage
	}
	status := exitOK
	for _, name := range fs.Args() {
		raw, err := readInput(name, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "taxiictl: %v\n", err)
			if *asJSON {
				writeJSONLine(stdout, unreadable(name, err))
			}
			status = exitUsage
			continue
		}
		d := v.Document(raw)
		if !d.Valid() && status == exitOK {
			status = exitInvalid
		}
		if *asJSON {
			writeJSONLine(stdout, fileReport(name, d))
		} else {
			writeText(stdout, name, d, *warnings)
		}
	}
	return status
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		raw, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return raw, nil
	}
	return os.ReadFile(name) // its *PathError names the file

}

// jsonFile is the --json line for one file. Problem paths are JSON Pointers into the file.
type jsonFile struct {
	File     string         `json:"file"`
	Valid    bool           `json:"valid"`
	Kind     string         `json:"kind,omitempty"`
	Errors   []stix.Problem `json:"errors"`   // about the file itself: not JSON, not UTF-8...
	Warnings []stix.Problem `json:"warnings"` // about the file itself
	Objects  []jsonObject   `json:"objects"`
}

type jsonObject struct {
	ID       string         `json:"id"`
	Type     string         `json:"type,omitempty"`
	Pointer  string         `json:"pointer"`
	Valid    bool           `json:"valid"`
	Errors   []stix.Problem `json:"errors"`
	Warnings []stix.Problem `json:"warnings"`
}

// codeUnreadable reports a file that could not be read at all.
const codeUnreadable = "unreadable"

func unreadable(name string, err error) jsonFile {
	return jsonFile{
		File:     name,
		Errors:   []stix.Problem{{Code: codeUnreadable, Message: err.Error()}},
		Warnings: []stix.Problem{},
		Objects:  []jsonObject{},
	}
}

func fileReport(name string, d stix.DocumentVerdict) jsonFile {
	f := jsonFile{
		File:     name,
		Valid:    d.Valid(),
		Kind:     string(d.Kind),
		Errors:   nonNil(d.Errors),
		Warnings: nonNil(d.Warnings),
		Objects:  make([]jsonObject, len(d.Objects)),
	}
	for i, o := range d.Objects {
		f.Objects[i] = jsonObject{
			ID: o.ID, Type: o.Type, Pointer: o.Pointer, Valid: o.Valid(),
			Errors: nonNil(o.Errors), Warnings: nonNil(o.Warnings),
		}
	}
	return f
}

// nonNil makes an absent list print as [], so that consumers of the JSON lines need not
// tell null from empty.
func nonNil(ps []stix.Problem) []stix.Problem {
	if ps == nil {
		return []stix.Problem{}
	}
	return ps
}

func writeJSONLine(w io.Writer, f jsonFile) {
	enc := json.NewEncoder(w) // Encode ends the value with a newline: one line per file
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		// Only unencodable values fail here, and jsonFile has none.
		panic(fmt.Sprintf("taxiictl: encode report: %v", err))
	}
}

func writeText(w io.Writer, name string, d stix.DocumentVerdict, listWarnings bool) {
	invalid, warned := 0, len(d.Warnings)
	for _, o := range d.Objects {
		if !o.Valid() {
			invalid++
		}
		warned += len(o.Warnings)
	}
	verdict := "valid"
	if !d.Valid() {
		verdict = "invalid"
	}
	fmt.Fprintf(w, "%s: %s, %s", name, verdict, plural(len(d.Objects), "object"))
	if invalid > 0 {
		fmt.Fprintf(w, " (%d invalid)", invalid)
	}
	fmt.Fprintf(w, ", %s\n", plural(warned, "warning"))
	printProblems(w, "error", d.Errors)
	if listWarnings {
		printProblems(w, "warning", d.Warnings)
	}
	for _, o := range d.Objects {
		if len(o.Errors) == 0 && (!listWarnings || len(o.Warnings) == 0) {
			continue
		}
		id := o.ID
		if id == "" {
			id = "(no id)"
		}
		fmt.Fprintf(w, "  %s %s\n", pointerOrRoot(o.Pointer), id)
		printProblems(w, "error", o.Errors)
		if listWarnings {
			printProblems(w, "warning", o.Warnings)
		}
	}
}

func printProblems(w io.Writer, severity string, ps []stix.Problem) {
	for _, p := range ps {
		fmt.Fprintf(w, "    %-7s %s [%s] %s\n", severity, pointerOrRoot(p.Path), p.Code, p.Message)
	}
}

func pointerOrRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
