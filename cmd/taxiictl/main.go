// Command taxiictl is the operator's tool for a taxiihub: each subcommand lives in its own
// file and is listed in commands.
package main

import (
	"fmt"
	"io"
	"os"
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
	{name: "validate", summary: "check STIX 2.1 bundles, envelopes or objects offline", run: runValidate},
}

// Exit statuses shared by the subcommands.
const (
	exitOK      = 0
	exitInvalid = 1 // the input was read but is not acceptable
	exitUsage   = 2 // bad arguments, or an input that cannot be read
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
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run taxiictl <command> -h for a command's options.")
}
