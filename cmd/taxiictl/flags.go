package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"

	"taxiihub/internal/admin"
)

// taxiictl checks its own command line before it talks to the hub, so that a forgotten flag is a
// usage error (exit 2) naming the flag, never a request the hub refuses with a message about an
// empty field.

// require returns a usage error naming every flag among names that was left empty.
func (inv *invocation) require(names ...string) error {
	var missing []string
	for _, name := range names {
		if f := inv.fs.Lookup(name); f != nil && strings.TrimSpace(f.Value.String()) == "" {
			missing = append(missing, "--"+name+" ("+f.Usage+")")
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return usagef("missing %s", missing[0])
	default:
		return usagef("missing %s", strings.Join(missing, ", "))
	}
}

// isSet reports whether the command line gave the flag, even with its default value.
func (inv *invocation) isSet(name string) bool {
	set := false
	inv.fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// checkTTL reads --ttl as the hub will, so that a lifetime the hub cannot read is one usage error.
func checkTTL(ttl string) error {
	if ttl == "" {
		return nil
	}
	if _, err := admin.ParseTTL(ttl); err != nil {
		return usagef("--ttl: %v", err)
	}
	return nil
}

// jsonError is what an action's failure prints on standard output with --json, so that a script
// reading standard output gets JSON whatever happens; the exit status is the same as without it.
type jsonError struct {
	Error struct {
		// Kind is usage, input, refused (the hub said no), unreachable or failed.
		Kind    string `json:"kind"`
		Message string `json:"message"`
		// Status is the hub's HTTP status when it refused, and Problems what it listed.
		Status   int      `json:"status,omitempty"`
		Problems []string `json:"problems,omitempty"`
		ErrorID  string   `json:"error_id,omitempty"`
		Exit     int      `json:"exit"`
	} `json:"error"`
}

// printJSONError writes err as a jsonError on standard output.
func (inv *invocation) printJSONError(err error, kind string, exit int) {
	var out jsonError
	out.Error.Kind, out.Error.Message, out.Error.Exit = kind, err.Error(), exit
	var refused *refusedError
	if errors.As(err, &refused) {
		out.Error.Status = refused.status
		out.Error.Message = cmp.Or(refused.body.Description, refused.body.Title, http.StatusText(refused.status))
		out.Error.Problems = refused.body.Details.Problems
		out.Error.ErrorID = refused.body.ErrorID
	}
	enc := json.NewEncoder(inv.stdout)
	enc.SetIndent("", "  ")
	if werr := enc.Encode(out); werr != nil {
		fmt.Fprintf(inv.stderr, "taxiictl %s: %v\n", inv.name, werr)
	}
}
