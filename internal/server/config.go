package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/taxii"
)

// Defaults, named so that the README, the flags' help and the tests agree.
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultDataDir         = "./taxiihub-data"
	DefaultMongoDatabase   = "taxiihub"
	DefaultShutdownTimeout = 20 * time.Second
	DefaultRequestTimeout  = 30 * time.Second
)

// Config is everything Run needs, decided before it starts.
type Config struct {
	// Listen is the TCP address to serve on.
	Listen string
	// DataDir holds the node's signing key, the first operator token, seeded partner tokens and the
	// embedded database. It is created, with mode 0700, if missing.
	DataDir string
	// MongoURI selects MongoDB instead of the embedded database when set.
	MongoURI      string
	MongoDatabase string
	// SigningKeyFile, when set, is the Ed25519 key (PEM, PKCS #8) this node signs tokens with; the
	// operator manages it, and the hub never replaces it. Unset, the key in DataDir is used, created
	// on first start and replaced by key rotation. Each node publishes the public half of its key to
	// the store, and verifies with every key published there, so nodes need not share a key.
	SigningKeyFile string
	// Issuer is the iss claim of the hub's tokens.
	Issuer string
	// MaxContentLength is the largest request body, advertised in API roots.
	MaxContentLength int64
	// Seed, when set, is a spec file (partnerships, collections, members, grants) applied at start;
	// a token for each member it declares is then written to DataDir/tokens/<member-id>.jwt.
	Seed string
	// TokenTTL is the lifetime of tokens issued without one (the first operator token, seeded
	// tokens); MaxTokenTTL is the longest the hub issues.
	TokenTTL    time.Duration
	MaxTokenTTL time.Duration
	// RequestTimeout bounds every request; ShutdownTimeout bounds the drain on shutdown.
	RequestTimeout  time.Duration
	ShutdownTimeout time.Duration
}

// ParseConfig reads flags, falling back to TAXIIHUB_* environment variables, then to the defaults.
// A flag given explicitly wins over the environment.
func ParseConfig(args []string, getenv func(string) string) (Config, error) {
	env := func(name, fallback string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return fallback
	}
	envDuration := func(name string, fallback time.Duration) (time.Duration, error) {
		v := getenv(name)
		if v == "" {
			return fallback, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return d, nil
	}
	var cfg Config
	requestTimeout, errReq := envDuration("TAXIIHUB_REQUEST_TIMEOUT", DefaultRequestTimeout)
	shutdownTimeout, errShut := envDuration("TAXIIHUB_SHUTDOWN_TIMEOUT", DefaultShutdownTimeout)
	maxContentLength, errMax := envInt("TAXIIHUB_MAX_CONTENT_LENGTH", getenv, taxii.DefaultMaxContentLength)
	tokenTTL, errTTL := envTTL("TAXIIHUB_TOKEN_TTL", getenv, admin.DefaultTokenTTL)
	maxTokenTTL, errMaxTTL := envTTL("TAXIIHUB_MAX_TOKEN_TTL", getenv, admin.DefaultMaxTokenTTL)
	if err := errors.Join(errReq, errShut, errMax, errTTL, errMaxTTL); err != nil {
		return Config{}, err
	}

	fs := flag.NewFlagSet("taxiihub", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Listen, "listen", env("TAXIIHUB_LISTEN", DefaultListen), "address to serve on (env TAXIIHUB_LISTEN)")
	fs.StringVar(&cfg.DataDir, "data-dir", env("TAXIIHUB_DATA_DIR", DefaultDataDir), "directory for the embedded database and keys (env TAXIIHUB_DATA_DIR)")
	fs.StringVar(&cfg.MongoURI, "mongo-uri", getenv("TAXIIHUB_MONGO_URI"),
		"MongoDB connection string; prefer the env TAXIIHUB_MONGO_URI when it holds a password, since flags show in ps")
	fs.StringVar(&cfg.MongoDatabase, "mongo-database", env("TAXIIHUB_MONGO_DATABASE", DefaultMongoDatabase), "MongoDB database name (env TAXIIHUB_MONGO_DATABASE)")
	fs.StringVar(&cfg.SigningKeyFile, "signing-key-file", getenv("TAXIIHUB_SIGNING_KEY_FILE"),
		"Ed25519 signing key (PEM); default: signing-key.pem in the data directory, created on first start (env TAXIIHUB_SIGNING_KEY_FILE)")
	fs.StringVar(&cfg.Issuer, "issuer", env("TAXIIHUB_ISSUER", auth.DefaultIssuer), "iss claim of the hub's tokens (env TAXIIHUB_ISSUER)")
	fs.Int64Var(&cfg.MaxContentLength, "max-content-length", maxContentLength,
		"largest request body in bytes, advertised as max_content_length (env TAXIIHUB_MAX_CONTENT_LENGTH)")
	fs.StringVar(&cfg.Seed, "seed", getenv("TAXIIHUB_SEED"),
		"spec file of partnerships, collections, members and grants to apply at start; writes a token per member to <data-dir>/tokens (env TAXIIHUB_SEED)")
	cfg.TokenTTL, cfg.MaxTokenTTL = tokenTTL, maxTokenTTL
	fs.Func("token-ttl", "lifetime of tokens issued without one, such as 90d or 720h (env TAXIIHUB_TOKEN_TTL; default 90d)",
		ttlFlag(&cfg.TokenTTL))
	fs.Func("max-token-ttl", "longest token lifetime the hub issues (env TAXIIHUB_MAX_TOKEN_TTL; default 365d)",
		ttlFlag(&cfg.MaxTokenTTL))
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", requestTimeout, "deadline of each request (env TAXIIHUB_REQUEST_TIMEOUT)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", shutdownTimeout, "how long in-flight requests may finish on shutdown (env TAXIIHUB_SHUTDOWN_TIMEOUT)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, fmt.Errorf("usage of taxiihub:\n%s", usage(fs))
		}
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return cfg, cfg.Validate()
}

// Validate reports every problem at once, so an operator fixes a config in one pass.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: %w", c.Listen, err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("a data directory is needed for the signing key, the operator token and the embedded database"))
	}
	if c.MongoURI != "" && c.MongoDatabase == "" {
		errs = append(errs, errors.New("a MongoDB database name is needed"))
	}
	if c.MaxContentLength < 1<<10 {
		errs = append(errs, fmt.Errorf("max content length %d is below 1 KiB", c.MaxContentLength))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("request timeout %v must be positive", c.RequestTimeout))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout %v must be positive", c.ShutdownTimeout))
	}
	if c.MaxTokenTTL < admin.MinTokenTTL {
		errs = append(errs, fmt.Errorf("max token TTL %s is below %s", admin.FormatTTL(c.MaxTokenTTL), admin.FormatTTL(admin.MinTokenTTL)))
	}
	if c.TokenTTL < admin.MinTokenTTL || c.TokenTTL > c.MaxTokenTTL {
		errs = append(errs, fmt.Errorf("token TTL %s is outside %s..%s (the max token TTL)",
			admin.FormatTTL(c.TokenTTL), admin.FormatTTL(admin.MinTokenTTL), admin.FormatTTL(c.MaxTokenTTL)))
	}
	return errors.Join(errs...)
}

func envInt(name string, getenv func(string) string, fallback int64) (int64, error) {
	v := getenv(name)
	if v == "" {
		return fallback, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

// envTTL reads a token lifetime (90d, 720h) from the environment.
func envTTL(name string, getenv func(string) string, fallback time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return fallback, nil
	}
	d, err := admin.ParseTTL(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// ttlFlag sets *d from a flag written as admin.ParseTTL reads it, so both flag and environment
// accept days.
func ttlFlag(d *time.Duration) func(string) error {
	return func(v string) error {
		parsed, err := admin.ParseTTL(v)
		if err != nil {
			return err
		}
		*d = parsed
		return nil
	}
}

func usage(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	return b.String()
}
