// Package server wires the hub together and runs it: it opens the store the config names, builds the
// HTTP handler and serves until its context ends. It lives outside cmd so that tests, and later the
// load tool, can run a whole hub in-process.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/httpapi"
	"taxiihub/internal/stix"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/sqlitestore"
)

// DatabaseFile is the embedded database's file name inside the data directory.
const DatabaseFile = "taxiihub.db"

// readHeaderTimeout stops clients that open connections and never finish their headers.
const readHeaderTimeout = 10 * time.Second

// Server is a wired hub, ready to serve.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	tokens  *auth.Tokens
	admin   *admin.Service
	handler http.Handler
}

// New opens the configured store, publishes this node's signing key, gives a new hub its first
// operator token, applies the seed file if one is configured, and builds the HTTP handler.
func New(ctx context.Context, cfg Config, log *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, st.Close(context.WithoutCancel(ctx)))
		}
	}()
	key, err := openNodeKey(ctx, cfg, st, log)
	if err != nil {
		return nil, err
	}
	validator, err := stix.NewValidator()
	if err != nil {
		return nil, fmt.Errorf("build the STIX validator: %w", err)
	}
	tokens := auth.NewTokens(key.keyring, cfg.Issuer, time.Now)
	authn := auth.NewAuthenticator(tokens, st)
	svc := admin.New(admin.Config{
		Store:           st,
		Signer:          tokens,
		Keys:            key,
		Logger:          log,
		DefaultTokenTTL: cfg.TokenTTL,
		MaxTokenTTL:     cfg.MaxTokenTTL,
	})
	if err := bootstrapOperator(ctx, svc, cfg.DataDir, log); err != nil {
		return nil, err
	}
	if cfg.Seed != "" {
		if err := seed(ctx, svc, authn, cfg.Seed, cfg.DataDir, log); err != nil {
			return nil, err
		}
	}
	return &Server{
		cfg:    cfg,
		log:    log,
		store:  st,
		tokens: tokens,
		admin:  svc,
		handler: httpapi.New(httpapi.Config{
			Store:            st,
			Auth:             authn,
			Checker:          stixChecker{validator},
			Logger:           log,
			RequestTimeout:   cfg.RequestTimeout,
			MaxContentLength: cfg.MaxContentLength,
			Admin:            svc,
			Operators:        authn,
		}),
	}, nil
}

func openStore(ctx context.Context, cfg Config, log *slog.Logger) (store.Store, error) {
	if cfg.MongoURI != "" {
		st, err := mongostore.Open(ctx, mongostore.Config{URI: cfg.MongoURI, Database: cfg.MongoDatabase})
		if err != nil {
			return nil, fmt.Errorf("open MongoDB store: %w", err)
		}
		log.InfoContext(ctx, "using MongoDB", "database", cfg.MongoDatabase)
		return st, nil
	}
	// The data directory also holds the signing key and tokens: only the hub's user may read it.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(cfg.DataDir, DatabaseFile)
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open embedded store: %w", err)
	}
	log.InfoContext(ctx, "using the embedded database", "path", path)
	return st, nil
}

// Handler is the hub's HTTP handler, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the hub's store, for tests and tools that prepare data in-process.
func (s *Server) Store() store.Store { return s.store }

// Tokens signs and verifies the hub's tokens.
func (s *Server) Tokens() *auth.Tokens { return s.tokens }

// Admin is the hub's operator service, for tests and tools that act as an operator in-process.
func (s *Server) Admin() *admin.Service { return s.admin }

// Serve answers requests on ln until ctx ends, then lets in-flight requests finish within the
// shutdown timeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.InfoContext(ctx, "serving TAXII 2.1", "address", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	s.log.InfoContext(ctx, "shutting down", "drain_timeout", s.cfg.ShutdownTimeout.String())
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Close releases the store.
func (s *Server) Close(ctx context.Context) error {
	if err := s.store.Close(ctx); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Run builds a hub from cfg and serves it on cfg.Listen until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) (err error) {
	s, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		err = errors.Join(err, s.Close(closeCtx))
	}()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}
