// Command taxiictl is the operator's tool for a taxiihub: each subcommand lives in its own
// file and is listed in commands.
package main

import (
	"fmt"
	"io"
	"os"

	"taxiihub/internal/buildinfo"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// command is one taxiictl subcommand. run gets the arguments after the subcommand's name and
// returns the process exit status.
type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

var commands = []command{
	{name: "partnership", summary: "create, list, show or delete partnerships (TAXII API roots)", run: partnershipGroup.run},
	{name: "collection", summary: "create, list or delete a partnership's collections", run: collectionGroup.run},
	{name: "member", summary: "add, list or remove partner organisations", run: memberGroup.run},
	{name: "grant", summary: "add or remove a member's read/write access to a collection", run: grantGroup.run},
	{name: "object", summary: "remove an object from a collection, tombstone included (operators only)", run: objectGroup.run},
	{name: "owner", summary: "pass the ownership of a member's objects in a partnership to another member", run: ownerGroup.run},
	{name: "token", summary: "issue, list or revoke partner and operator tokens", run: tokenGroup.run},
	{name: "key", summary: "list, rotate or retire token signing keys", run: keyGroup.run},
	{name: "apply", summary: "make the hub match a YAML spec file (idempotent)", run: single("apply", applyAction)},
	{name: "policy", summary: "show or set the sharing rules of partnerships and collections", run: policyGroup.run},
	{name: "membership", summary: "set, list or remove members' roles and TLP clearances in partnerships", run: membershipGroup.run},
	{name: "audit", summary: "list operator actions; audit verify [--deep] checks the ledger (and more), audit head prints the chains' heads, audit pulls lists pulls", run: runAudit},
	{name: "sweep", summary: "purge now the objects and statuses past their retention (the hub also does so every --sweep-interval)", run: single("sweep", sweepAction)},
	{name: "backup", summary: "copy the embedded database while the hub serves (MongoDB hubs: see the README)", run: single("backup", backupAction)},
	{name: "export", summary: "write the whole hub to one file while it serves, for import on another hub (of either backend)", run: single("export", exportAction)},
	{name: "import", summary: "load an export into a new hub (of either backend)", run: single("import", importAction)},
	{name: "validate", summary: "check STIX 2.1 bundles, envelopes or objects offline", run: runValidate},
	{name: "convert", summary: "turn an IOC list, CSV file, MISP event or STIX bundle into a STIX 2.1 bundle, offline", run: runConvert},
	{name: "publish", summary: "convert IOC lists, CSV, MISP events or bundles and publish them with a partner token, line by line", run: runPublish},
	{name: "review", summary: "list, show, approve or reject objects held for review, with a reviewer's partner token", run: runReview},
}

// Exit statuses shared by the subcommands.
const (
	exitOK          = 0
	exitInvalid     = 1 // the input was read but is not acceptable
	exitFailed      = 1 // the hub refused the request, or the operation failed
	exitUsage       = 2 // bad arguments, or an input that cannot be read
	exitUnreachable = 3 // the hub could not be reached
)

// run dispatches to a subcommand. It holds everything main does apart from touching the
// process, so that tests can run the tool in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, buildinfo.Read().Line("taxiictl"))
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "taxiictl: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: taxiictl <command> [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands that talk to the hub find it with --url, else TAXIIHUB_URL, else "+defaultURL+",")
	fmt.Fprintln(w, "and the operator token with --token-file, else TAXIIHUB_TOKEN_FILE, else "+tokenFileName)
	fmt.Fprintln(w, "in TAXIIHUB_DATA_DIR or "+defaultDataDir+". They print tables; --json prints the hub's answer.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit status: 0 success; 1 the hub refused, or the operation failed (validate: an object is")
	fmt.Fprintln(w, "invalid); 2 a usage error, or an input that cannot be read; 3 the hub could not be reached.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run taxiictl <command> -h for a command's options, taxiictl --version for the build.")
}
