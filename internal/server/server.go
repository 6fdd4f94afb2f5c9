// Package server wires the hub together and runs it: it opens the store the config names, builds the
// HTTP handler and serves until its context ends. It lives outside cmd so that tests, and later the
// load tool, can run a whole hub in-process.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/buildinfo"
	"taxiihub/internal/console"
	"taxiihub/internal/httpapi"
	"taxiihub/internal/metrics"
	"taxiihub/internal/policy"
	"taxiihub/internal/requestlog"
	"taxiihub/internal/sharing"
	"taxiihub/internal/stix"
	"taxiihub/internal/store"
	"taxiihub/internal/store/mongostore"
	"taxiihub/internal/store/sqlitestore"
)

// DatabaseFile is the embedded database's file name inside the data directory.
const DatabaseFile = "taxiihub.db"

// Server is a wired hub, ready to serve.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	tokens  *auth.Tokens
	admin   *admin.Service
	handler http.Handler
	// adminHandler serves the admin API when cfg.AdminListen gives it an address of its own; nil
	// when handler serves it.
	adminHandler http.Handler
	// metrics serves the hub's registry; it is mounted with the admin API unless cfg.MetricsListen is set.
	metrics http.Handler
	// cert and tls are nil when the hub serves plain HTTP.
	cert *certificate
	tls  *tls.Config
	// onReady, when set, is called once Serve listens.
	onReady func(Ready)
}

// New opens the configured store, publishes this node's signing key, gives a new hub its first
// operator token, applies the seed file if one is configured, and builds the HTTP handler.
func New(ctx context.Context, cfg Config, log *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	// Wrapped here rather than only in the HTTP layer, so that the operator service, called with a
	// request's context, names the request in what it logs too.
	log = slog.New(requestlog.NewHandler(log.Handler()))
	// Each hub has its own registry, never the global one, so that hubs in one process (tests,
	// the load tool) do not mix their series.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics.RegisterBuildInfo(reg, buildinfo.Read())

	// TLS files are read before the store is opened: a bad certificate is the cheaper failure.
	var (
		cert    *certificate
		tlsConf *tls.Config
	)
	if cfg.TLSCert != "" {
		if cert, err = loadCertificate(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, err
		}
		if tlsConf, err = tlsConfig(cert, cfg.ClientCA); err != nil {
			return nil, err
		}
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "taxiihub_tls_certificate_expiry_timestamp_seconds",
			Help: "When the TLS certificate served now expires, as a Unix time: alert well before it, then renew and send SIGHUP.",
		}, func() float64 { return float64(cert.leaf().NotAfter.Unix()) }))
	}

	opened, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	st := metrics.NewStore(opened, reg)
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
		Verified:        metrics.NewVerifications(reg),
		StatusRetention: cfg.StatusRetention,

		PullDetailRetention: cfg.PullDetailRetention,
	})
	metrics.RegisterTokenExpiry(reg, memberExpiries(svc), log)
	metrics.RegisterReviewPending(reg, st.PendingCounts, log)
	if err := bootstrapOperator(ctx, svc, cfg.DataDir, log); err != nil {
		return nil, err
	}
	if cfg.Seed != "" {
		if err := seed(ctx, svc, st, authn, cfg.Seed, cfg.DataDir, time.Now(), log); err != nil {
			return nil, err
		}
	}
	// Partnerships and members from before members collections existed get theirs here; on a hub
	// that has them, nothing changes.
	if err := svc.KeepIdentities(ctx); err != nil {
		return nil, fmt.Errorf("serve members' identities: %w", err)
	}
	scrape := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry: reg, // counts its own failures in promhttp_metric_handler_errors_total
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	})
	partners, err := sharing.New(sharing.Config{Store: st, Checker: validator, Logger: log})
	if err != nil {
		return nil, err
	}
	api := httpapi.Config{
		Sharing:          partners,
		Store:            st,
		Auth:             authn,
		Logger:           log,
		RequestTimeout:   cfg.RequestTimeout,
		MaxContentLength: cfg.MaxContentLength,
		Admin:            svc,
		Operators:        authn,
		Metrics:          reg,
		Limits: httpapi.Limits{
			MemberRate: cfg.MemberRate, MemberBurst: cfg.MemberBurst,
			FailureRate: cfg.AuthFailureRate, FailureBurst: cfg.AuthFailureBurst,
		},
		TrustedProxies:  cfg.TrustedProxies,
		MinTransferRate: cfg.MinTransferRate,
		TransferGrace:   cfg.TransferGrace,
		IngestMemory:    cfg.ingestMemory(),
		IngestWait:      cfg.IngestWait,
	}
	if cfg.MetricsListen == "" {
		api.MetricsHandler = scrape
	}
	if api.Console, api.OperatorConsole, err = consoles(cfg, partners, svc, authn, log); err != nil {
		return nil, err
	}
	if cfg.ClientCA != "" {
		api.Certificates = auth.NewCertificates(st)
	}
	srv := &Server{
		cfg:     cfg,
		log:     log,
		store:   st,
		tokens:  tokens,
		admin:   svc,
		metrics: scrape,
		cert:    cert,
		tls:     tlsConf,
	}
	if cfg.AdminListen != "" {
		srv.handler, srv.adminHandler = httpapi.NewApart(api)
	} else {
		srv.handler = httpapi.New(api)
	}
	return srv, nil
}

func openStore(ctx context.Context, cfg Config, log *slog.Logger) (store.Store, error) {
	uri := cfg.MongoURI
	if cfg.MongoURIFile != "" {
		// Read here and kept nowhere else, so that the password stays out of Config and its copies.
		raw, err := os.ReadFile(cfg.MongoURIFile)
		if err != nil {
			return nil, fmt.Errorf("read the MongoDB URI file: %w", err)
		}
		if uri = strings.TrimSpace(string(raw)); uri == "" {
			return nil, fmt.Errorf("the MongoDB URI file %s is empty", cfg.MongoURIFile)
		}
	}
	if uri != "" {
		st, err := mongostore.Open(ctx, mongostore.Config{URI: uri, Database: cfg.MongoDatabase,
			FingerprintUpgrade: policy.UpgradeFingerprint, ValueIndexer: policy.IndexValues})
		if err != nil {
			return nil, fmt.Errorf("open MongoDB store: %w", err)
		}
		log.InfoContext(ctx, "using MongoDB", "database", cfg.MongoDatabase)
		return st, nil
	}
	path := filepath.Join(cfg.DataDir, DatabaseFile)
	if err := ownerOnly(cfg.DataDir, path); err != nil {
		return nil, err
	}
	st, err := sqlitestore.Open(ctx, path, sqlitestore.WithFingerprintUpgrade(policy.UpgradeFingerprint),
		sqlitestore.WithValueIndexer(policy.IndexValues))
	if err != nil {
		return nil, fmt.Errorf("open embedded store: %w", err)
	}
	log.InfoContext(ctx, "using the embedded database", "path", path)
	return st, nil
}

// ownerOnly makes the data directory and the database's files readable by the hub's user alone,
// also when they exist already with wider modes (created by hand, or by an older build): the
// directory holds the signing key and tokens, the database every partner's intelligence. The
// database file is created before SQLite opens it, because SQLite gives its journal files the
// database file's mode.
func ownerOnly(dir, database string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restrict data directory: %w", err)
	}
	f, err := os.OpenFile(database, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create the database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create the database file: %w", err)
	}
	for _, p := range []string{database, database + "-wal", database + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restrict %s: %w", p, err)
		}
	}
	return nil
}

// Handler is the hub's HTTP handler, for tests that serve it themselves: the partners' handler, which
// also serves the admin API unless the config gives it an address of its own.
func (s *Server) Handler() http.Handler { return s.handler }

// AdminHandler serves the admin API when the config gives it an address of its own, for tests that
// serve it themselves; nil when Handler serves it.
func (s *Server) AdminHandler() http.Handler { return s.adminHandler }

// Store is the hub's store, for tests and tools that prepare data in-process.
func (s *Server) Store() store.Store { return s.store }

// Tokens signs and verifies the hub's tokens.
func (s *Server) Tokens() *auth.Tokens { return s.tokens }

// Admin is the hub's operator service, for tests and tools that act as an operator in-process.
func (s *Server) Admin() *admin.Service { return s.admin }

// MetricsHandler serves the hub's metrics in the Prometheus text format, for tests that serve it
// themselves; Handler serves it too unless the config gives metrics an address of their own.
func (s *Server) MetricsHandler() http.Handler { return s.metrics }

// Reload reads the TLS certificate and key files again and serves the new pair from the next
// handshake on; connections already open keep theirs. If the files do not hold a valid pair the
// hub keeps serving the previous one and Reload says why. Without TLS there is nothing to reload.
func (s *Server) Reload(ctx context.Context) error {
	if s.cert == nil {
		s.log.InfoContext(ctx, "reload: the hub serves no TLS certificate; nothing to reload")
		return nil
	}
	leaf, err := s.cert.reload()
	if err != nil {
		return fmt.Errorf("reload: %w; still serving the certificate for %s, valid until %s", err,
			s.cert.leaf().Subject, s.cert.leaf().NotAfter.Format(time.RFC3339))
	}
	s.log.InfoContext(ctx, "reloaded the TLS certificate", "subject", leaf.Subject.String(),
		"not_after", leaf.NotAfter.Format(time.RFC3339), "serial", leaf.SerialNumber.String())
	return nil
}

// Listeners are the sockets a hub serves on. They are bound by Listen before the hub opens its store,
// so that a hub that cannot serve (an address in use, say by another hub) fails before writing
// anything there: no seed applied, no token issued, no key published.
type Listeners struct {
	// API serves partners: TAXII, and the admin API unless Admin is set.
	API net.Listener
	// Admin serves the admin API, when the config gives it an address; else nil.
	Admin net.Listener
	// Metrics serves /metrics, when the config gives it an address; else nil.
	Metrics net.Listener
}

// Listen binds the addresses the config names. On failure it releases what it bound.
func Listen(cfg Config) (Listeners, error) {
	var l Listeners
	for _, b := range []struct {
		what, addr string
		ln         *net.Listener
	}{
		{"", cfg.Listen, &l.API},
		{" for the admin API", cfg.AdminListen, &l.Admin},
		{" for metrics", cfg.MetricsListen, &l.Metrics},
	} {
		if b.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", b.addr)
		if err != nil {
			return Listeners{}, errors.Join(fmt.Errorf("listen%s on %s: %w", b.what, b.addr, err), l.Close())
		}
		*b.ln = ln
	}
	return l, nil
}

// Close releases the listeners; Serve closes them itself.
func (l Listeners) Close() error {
	var errs []error
	for _, ln := range []net.Listener{l.API, l.Admin, l.Metrics} {
		if ln != nil {
			if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Serve answers requests on the listeners until ctx ends; then it lets in-flight requests finish
// within the shutdown timeout. The API listener speaks TLS when the config has a certificate, and
// so does the admin listener unless it is on a loopback address, where the traffic never leaves
// the machine and operators reach it with kubectl exec or docker compose exec; the metrics
// listener speaks plain HTTP, for the internal network scrapers use.
func (s *Server) Serve(ctx context.Context, l Listeners) error {
	if (l.Metrics != nil) != (s.cfg.MetricsListen != "") || (l.Admin != nil) != (s.cfg.AdminListen != "") || l.API == nil {
		return errors.Join(errors.New("serve: the listeners do not match the config's addresses"), l.Close())
	}
	type served struct {
		srv *http.Server
		ln  net.Listener
		tls bool
	}
	// The watch ends when Serve returns, before the store is closed.
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		var sweep sync.WaitGroup
		sweep.Go(func() { s.sweepHeldObjects(watchCtx) })
		if s.cfg.SweepInterval > 0 {
			sweep.Go(func() { s.sweepExpired(watchCtx) })
		}
		s.warnExpiringTokens(watchCtx)
		sweep.Wait()
	}()
	defer func() {
		stopWatch()
		<-watchDone
	}()
	api := s.httpServer(ctx, s.handler)
	api.TLSConfig = s.tls
	// Only the partners' listener is limited: the admin and metrics addresses are the operator's.
	perAddress, total := s.cfg.MaxConnectionsPerAddress, s.cfg.maxConnections()
	all := []served{{api, limitConnections(l.API, perAddress, total, s.log), s.tls != nil}}
	s.log.InfoContext(ctx, "serving TAXII 2.1", "address", l.API.Addr().String(), "tls", s.tls != nil,
		"client_certificates", s.cfg.ClientCA != "", "admin_api", l.Admin == nil,
		"max_connections", total, "max_connections_per_address", perAddress, "ingest_memory", s.cfg.ingestMemory())
	if l.Admin != nil {
		adm := s.httpServer(ctx, s.adminHandler)
		useTLS := s.tls != nil && !isLoopback(l.Admin.Addr())
		if useTLS {
			adm.TLSConfig = s.tls
		}
		all = append(all, served{adm, l.Admin, useTLS})
		s.log.InfoContext(ctx, "serving the admin API", "address", l.Admin.Addr().String(), "tls", useTLS)
	}
	if l.Metrics != nil {
		all = append(all, served{s.httpServer(ctx, promOnly(s.metrics)), l.Metrics, false})
		s.log.InfoContext(ctx, "serving metrics", "address", l.Metrics.Addr().String())
	}
	ready := s.ready(l.API.Addr())
	s.log.InfoContext(ctx, ready.Sentence(), "event", "ready", "discovery_url", ready.DiscoveryURL,
		"operator_token", ready.OperatorToken, "partner_tokens", ready.TokensDir, "partner_token_files", ready.PartnerTokens)
	if s.onReady != nil {
		s.onReady(ready)
	}
	done := make(chan error, len(all))
	for _, sv := range all {
		go func() {
			if sv.tls {
				done <- sv.srv.ServeTLS(sv.ln, "", "") // the certificate comes from TLSConfig.GetCertificate
				return
			}
			done <- sv.srv.Serve(sv.ln)
		}()
	}

	var errs []error
	running := len(all)
	select {
	case err := <-done:
		running--
		errs = append(errs, fmt.Errorf("serve: %w", err))
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	s.log.InfoContext(ctx, "shutting down", "drain_timeout", s.cfg.ShutdownTimeout.String())
	for _, sv := range all {
		if err := sv.srv.Shutdown(shutdownCtx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
	}
	for ; running > 0; running-- {
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serve: %w", err))
		}
	}
	return errors.Join(errs...)
}

// isLoopback reports whether a listener's address is on the loopback interface.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func (s *Server) httpServer(ctx context.Context, h http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.cfg.MinTransferRate > 0 {
		// A fresh write deadline for every request, long enough for the request timeout; the HTTP
		// layer moves it on as it writes an answer, by the answer's size and the minimum transfer
		// rate, so that the largest page still reaches a slow client and a client that reads
		// nothing cannot hold the connection.
		srv.WriteTimeout = s.cfg.RequestTimeout + s.cfg.TransferGrace
	}
	return srv
}

// promOnly answers /metrics with h and every other path with 404.
func promOnly(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return mux
}

// Close releases the store.
func (s *Server) Close(ctx context.Context) error {
	if err := s.store.Close(ctx); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Run serves on the listeners Listen bound until ctx ends, then closes the store.
func (s *Server) Run(ctx context.Context, l Listeners) (err error) {
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
		defer cancel()
		err = errors.Join(err, s.Close(closeCtx))
	}()
	return s.Serve(ctx, l)
}

// consoles builds the web consoles: the partners' and the operators'.
func consoles(cfg Config, partners *sharing.Service, operators *admin.Service, authn *auth.Authenticator,
	log *slog.Logger) (partnerConsole, operatorConsole http.Handler, err error) {
	var providers []console.Provider
	if cfg.ConsoleProviders != "" {
		if providers, err = readProviders(cfg.ConsoleProviders); err != nil {
			return nil, nil, err
		}
	}
	base := console.Config{Auth: authn, BaseURL: cfg.ConsoleURL, Providers: providers, Secure: cfg.TLSCert != "",
		IdleTimeout: cfg.ConsoleIdleTimeout, AbsoluteTimeout: cfg.ConsoleSessionTimeout, MaxSessions: cfg.ConsoleMaxSessions,
		MaxBody: cfg.MaxContentLength, Logger: log}
	pc := base
	pc.Sharing, pc.MemberProviders = partners, memberProviders(operators)
	p, err := console.New(pc)
	if err != nil {
		return nil, nil, err
	}
	oc := base
	oc.Admin, oc.BaseURL = operators, cfg.ConsoleAdminURL
	o, err := console.New(oc)
	if err != nil {
		return nil, nil, err
	}
	return p, o, nil
}
