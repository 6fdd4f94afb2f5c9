// Command taxiihub serves the TAXII 2.1 hub. With no flags it stores data in ./taxiihub-data and
// listens on 127.0.0.1:8080; see -help for the flags and their TAXIIHUB_* environment variables.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"taxiihub/internal/httpapi"
	"taxiihub/internal/server"
)

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stderr)) }

// run turns the outside world (arguments, environment, signals) into values, so that everything
// below it can be started by tests without touching process state.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := server.ParseConfig(args, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "taxiihub: %v\n", err)
		return 2
	}
	httpapi.UseReleaseMode()
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := server.Run(ctx, cfg, log); err != nil {
		log.Error("taxiihub stopped", "error", err)
		return 1
	}
	return 0
}
