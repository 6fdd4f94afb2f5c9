// Command taxiiload puts a taxiihub under load as its partners would: several members publish STIX
// indicators and poll every collection they may read, at once, through one or more hub nodes. It shows
// progress on stderr, prints throughput and latency percentiles, and checks at the end that every
// object the hub accepted reached every poller entitled to it exactly once.
//
//	taxiiload [flags] [HUB-URL...]
//
// The engine is internal/load, which the reliability tests also run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"taxiihub/internal/buildinfo"
	"taxiihub/internal/load"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1 // the run found problems, or could not finish
	exitUsage       = 2
	exitUnreachable = 3
)

const (
	defaultURL     = "http://127.0.0.1:8080"
	defaultDataDir = "./taxiihub-data"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr, isTerminal(os.Stderr)))
}

// isTerminal reports whether f is a character device, which is as much as a progress line needs
// to know to decide between rewriting itself and appending.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// options are the command line, before tokens are read.
type options struct {
	cfg      load.Config
	dataDir  string
	members  []string
	tokens   []string // MEMBER=FILE
	json     bool
	quiet    bool
	progress time.Duration
}

// run is the whole command apart from touching the process, so that tests can run it in-process.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer, terminal bool) int {
	if slices.ContainsFunc(args, buildinfo.IsVersionFlag) {
		fmt.Fprintln(stdout, buildinfo.Read().Line("taxiiload"))
		return exitOK
	}
	opts, err := parseArgs(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage(getenv))
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "taxiiload: %v\n\n%s", err, usage(getenv))
		return exitUsage
	}
	cfg := opts.cfg
	cfg.Members, err = readTokens(opts)
	if err != nil {
		fmt.Fprintf(stderr, "taxiiload: %v\n", err)
		return exitUsage
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "taxiiload: %v\n", err)
		return exitUsage
	}
	if !opts.quiet {
		cfg.Progress, cfg.Terminal, cfg.ProgressInterval = stderr, terminal, opts.progress
		if opts.progress == 0 && !terminal {
			cfg.ProgressInterval = 10 * time.Second // a log wants fewer lines than a terminal
		}
	}

	// The first Ctrl-C stops publishing and lets the pollers catch up, so that the check still runs;
	// the second stops everything.
	stopPublishing := make(chan struct{})
	cfg.StopPublishing = stopPublishing
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		select {
		case <-signals:
			fmt.Fprintln(stderr, "\ntaxiiload: stopping publishing; interrupt again to stop at once")
			close(stopPublishing)
		case <-ctx.Done():
			return
		}
		select {
		case <-signals:
			cancel()
		case <-ctx.Done():
		}
	}()

	rep, err := load.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "taxiiload: %v\n", err)
		if errors.Is(err, load.ErrUnreachable) {
			return exitUnreachable
		}
		return exitFailed
	}
	if opts.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*load.Report
			ObjectsPerSecond float64
			Problems         []string
		}{rep, rep.ObjectsPerSecond(), rep.Problems()}); err != nil {
			fmt.Fprintf(stderr, "taxiiload: %v\n", err)
			return exitFailed
		}
	} else if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "taxiiload: %v\n", err)
		return exitFailed
	}
	if len(rep.Problems()) > 0 {
		return exitFailed
	}
	return exitOK
}

func newFlagSet(o *options, getenv func(string) string) *flag.FlagSet {
	fs := flag.NewFlagSet("taxiiload", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataDir := getenv("TAXIIHUB_DATA_DIR")
	if dataDir == "" {
		dataDir = defaultDataDir
	}
	fs.StringVar(&o.dataDir, "data-dir", dataDir, "hub data directory whose tokens/<member>.jwt files name the members to act as (env TAXIIHUB_DATA_DIR)")
	fs.Func("members", "comma-separated members to act as (default: every token in the data directory)", func(v string) error {
		for m := range strings.SplitSeq(v, ",") {
			if m = strings.TrimSpace(m); m != "" {
				o.members = append(o.members, m)
			}
		}
		return nil
	})
	fs.Func("token", "MEMBER=FILE: act as MEMBER with the token in FILE (repeatable; instead of the data directory)", func(v string) error {
		if m, f, ok := strings.Cut(v, "="); !ok || m == "" || f == "" {
			return errors.New("want MEMBER=FILE")
		}
		o.tokens = append(o.tokens, v)
		return nil
	})
	fs.Func("collection", "PARTNERSHIP/COLLECTION (alias or id), or PARTNERSHIP/*: a collection set aside for load tests, the only kind written to and polled (repeatable)", func(v string) error {
		o.cfg.Collections = append(o.cfg.Collections, v)
		return nil
	})
	fs.BoolVar(&o.cfg.WriteRealData, "write-real-data", false, "instead of -collection, write fake objects into every collection the members may write, real partners' ones included")
	fs.BoolVar(&o.cfg.Cleanup, "cleanup", false, "withdraw every object published once the run is over (one request per object)")
	fs.DurationVar(&o.cfg.Duration, "duration", 0, "how long to publish (default 30s unless -objects is given)")
	fs.IntVar(&o.cfg.Objects, "objects", 0, "stop publishing after this many objects")
	fs.IntVar(&o.cfg.Publishers, "publishers", load.DefaultPublishers, "publishers per member that may write")
	fs.IntVar(&o.cfg.Pollers, "pollers", load.DefaultPollers, "pollers per member and collection it may read")
	fs.IntVar(&o.cfg.Batch, "batch", load.DefaultBatch, fmt.Sprintf("objects per POST (at most %d)", load.MaxBatch))
	fs.IntVar(&o.cfg.PageSize, "page", load.DefaultPageSize, fmt.Sprintf("objects per GET (at most %d)", load.MaxPageSize))
	fs.IntVar(&o.cfg.ObjectSize, "object-size", 0, "pad each indicator to about this many bytes of JSON (default about 600)")
	fs.DurationVar(&o.cfg.PollInterval, "poll-interval", load.DefaultPollInterval, "pause of a poller that has read everything")
	fs.DurationVar(&o.cfg.Drain, "drain", load.DefaultDrain, "how long pollers may take to catch up once publishing stops")
	fs.DurationVar(&o.cfg.GiveUpAfter, "give-up", load.DefaultGiveUpAfter, "how long to keep resubmitting a failed batch")
	fs.DurationVar(&o.cfg.RequestTimeout, "request-timeout", load.DefaultRequestTimeout, "deadline of each request")
	fs.DurationVar(&o.progress, "progress", 0, "interval of progress lines (default 1s on a terminal, 10s otherwise)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	return fs
}

func parseArgs(args []string, getenv func(string) string) (options, error) {
	var o options
	fs := newFlagSet(&o, getenv)
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if len(o.cfg.Collections) > 0 && o.cfg.WriteRealData {
		return options{}, errors.New("-collection and -write-real-data exclude each other: name the collections, or write everywhere")
	}
	if len(o.cfg.Collections) == 0 && !o.cfg.WriteRealData {
		return options{}, errors.New("name the collections to load with -collection PARTNERSHIP/COLLECTION (collections set aside " +
			"for load tests); taxiiload writes fake indicators, which partners' systems would take for intelligence. " +
			"To write into every collection the members may write, real ones included, say -write-real-data")
	}
	o.cfg.Hubs = fs.Args()
	if len(o.cfg.Hubs) == 0 {
		if u := getenv("TAXIIHUB_URL"); u != "" {
			o.cfg.Hubs = []string{u}
		} else {
			o.cfg.Hubs = []string{defaultURL}
		}
	}
	for _, h := range o.cfg.Hubs {
		if !strings.HasPrefix(h, "http://") && !strings.HasPrefix(h, "https://") {
			return options{}, fmt.Errorf("hub %q: want an http:// or https:// URL", h)
		}
	}
	if o.cfg.Duration == 0 && o.cfg.Objects == 0 {
		o.cfg.Duration = 30 * time.Second
	}
	return o, nil
}

func usage(getenv func(string) string) string {
	var o options
	fs := newFlagSet(&o, getenv)
	var b strings.Builder
	b.WriteString(`Usage: taxiiload [flags] [HUB-URL...]

Publishes STIX indicators and polls them back as several members at once, through the hubs given
(round-robin; default TAXIIHUB_URL, else ` + defaultURL + `), into the collections -collection names
only (set aside for load tests), or with -write-real-data into every collection the members reach.
Each member publishes to every such collection it may write and polls every one it may read; with
-cleanup the objects are withdrawn at the end. Progress goes to stderr, the report to stdout.

At the end every object accepted in a 202 must have reached every poller entitled to it exactly once,
byte for byte. Exit status: 0 it did; 1 it did not, or the run could not finish; 2 a usage error or
an unreadable token; 3 no hub could be reached.

Flags:
`)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	return b.String()
}

// readTokens loads the members' tokens: the files -token names, else every tokens/<member>.jwt in
// the data directory, narrowed to -members when given.
func readTokens(o options) ([]load.Member, error) {
	var all []load.Member
	if len(o.tokens) > 0 {
		for _, t := range o.tokens {
			id, file, _ := strings.Cut(t, "=")
			m, err := load.ReadMember(id, file)
			if err != nil {
				return nil, err
			}
			all = append(all, m)
		}
	} else {
		var err error
		if all, err = load.ReadMembers(filepath.Join(o.dataDir, "tokens")); err != nil {
			return nil, fmt.Errorf("%w (start the hub with --seed, or name token files with -token)", err)
		}
	}
	if len(o.members) == 0 {
		return all, nil
	}
	var members []load.Member
	for _, id := range o.members {
		i := slices.IndexFunc(all, func(m load.Member) bool { return m.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("no token for member %q", id)
		}
		members = append(members, all[i])
	}
	return members, nil
}
