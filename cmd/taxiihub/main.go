// Command taxiihub serves the TAXII 2.1 hub. With no flags it stores data in ./taxiihub-data and
// listens on 127.0.0.1:8080; see -help for the flags and their TAXIIHUB_* environment variables.
// SIGTERM and SIGINT stop it gracefully; SIGHUP makes it read its TLS certificate again.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"taxiihub/internal/buildinfo"
	"taxiihub/internal/httpapi"
	"taxiihub/internal/server"
)

func main() {
	// --version is answered before the configuration is read, so that it works whatever else the
	// environment or a config file says.
	if slices.ContainsFunc(os.Args[1:], buildinfo.IsVersionFlag) {
		fmt.Println(buildinfo.Read().Line("taxiihub"))
		return
	}
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run turns the outside world (arguments, environment, signals) into values, so that everything
// below it can be started by tests without touching process state.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	args, restore, err := restoreArg(args)
	if err != nil {
		fmt.Fprintf(stderr, "taxiihub: %v\n", err)
		return 2
	}
	cfg, err := server.ParseConfig(args, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "taxiihub: %v\n", err)
		return 2
	}
	httpapi.UseReleaseMode()
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	if restore != "" {
		if err := server.Restore(context.Background(), cfg, restore, log); err != nil {
			log.Error("taxiihub could not restore", "error", err)
			return 1
		}
		return 0
	}

	// SIGHUP is caught from the start: its default action would end the process.
	hangup := make(chan os.Signal, 1)
	signal.Notify(hangup, syscall.SIGHUP)
	defer signal.Stop(hangup)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Bound before the store is opened: a hub that cannot serve must not write anything there.
	listeners, err := server.Listen(cfg)
	if err != nil {
		log.Error("taxiihub could not start", "error", err)
		return 1
	}
	s, err := server.New(ctx, cfg, log)
	if err != nil {
		log.Error("taxiihub could not start", "error", errors.Join(err, listeners.Close()))
		return 1
	}
	// A person at a terminal gets one plain line among the JSON ones: where the hub is and where
	// its tokens are. Log collectors, which are not terminals, get the same as a JSON line only.
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		s.OnReady(func(r server.Ready) { fmt.Fprintf(stderr, "\n%s\n\n", r.Sentence()) })
	}
	// The reloader ends with ctx, which stop cancels when run returns, whatever the reason.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hangup:
				if err := s.Reload(ctx); err != nil {
					log.Error("SIGHUP: reload failed", "error", err)
				}
			}
		}
	}()
	if err := s.Run(ctx, listeners); err != nil {
		log.Error("taxiihub stopped", "error", err)
		return 1
	}
	return 0
}

// restoreArg takes --restore FILE (or --restore=FILE) out of args: a command, not a setting.
func restoreArg(args []string) (rest []string, file string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == server.RestoreFlag || a == "-"+server.RestoreFlag[2:]:
			if i+1 >= len(args) {
				return nil, "", fmt.Errorf("%s needs the backup file", server.RestoreFlag)
			}
			file = args[i+1]
			i++
		case strings.HasPrefix(a, server.RestoreFlag+"="):
			file = strings.TrimPrefix(a, server.RestoreFlag+"=")
		default:
			rest = append(rest, a)
		}
	}
	return rest, file, nil
}

// isTerminal reports whether f is a character device: a person is reading it.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
