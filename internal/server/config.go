package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/console"
	"taxiihub/internal/store"
	"taxiihub/internal/taxii"
)

// Defaults, named so that the README, the flags' help and the tests agree.
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultDataDir         = "./taxiihub-data"
	DefaultMongoDatabase   = "taxiihub"
	DefaultShutdownTimeout = 20 * time.Second
	DefaultRequestTimeout  = 30 * time.Second

	// DefaultMemberRate and DefaultMemberBurst never throttle a conformant client: a poller catching
	// up a backlog page by page at full speed (1,000 pages of 100: 100,000 objects), or a conformance
	// suite's burst of a few hundred requests, stays within the burst, and fifty requests a second
	// per node keep any steady poller and publisher going; a runaway client still cannot take the
	// store from the others for long. taxii2-client raises on 429, so a throttled poll fails.
	DefaultMemberRate  = 50
	DefaultMemberBurst = 1000
	// DefaultAuthFailureRate and DefaultAuthFailureBurst let a client with a stale token fail twenty
	// times in a row, then once every five seconds.
	DefaultAuthFailureRate  = 0.2
	DefaultAuthFailureBurst = 20

	// DefaultReadHeaderTimeout stops clients that open connections and never finish their headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout closes keep-alive connections left unused this long, so that idle clients
	// cannot hold file descriptors for good; pollers that come back sooner keep their connection.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMinTransferRate and DefaultTransferGrace are the slowest a body may arrive, and an
	// answer be taken, once the grace has passed: a 32 MiB body has 17 minutes at 32 KiB/s, while a
	// client trickling a byte a second is cut after about ten seconds.
	DefaultMinTransferRate = 32 << 10
	DefaultTransferGrace   = 10 * time.Second
	// DefaultMaxConnectionsPerAddress lets one client address (or IPv6 /64) hold this many
	// connections: far more than a poller and a publisher need, far fewer than a file limit.
	DefaultMaxConnectionsPerAddress = 64
	// DefaultIngestWait is how long a POST waits for room in the ingest memory budget before it is
	// answered 503 with Retry-After.
	DefaultIngestWait = 5 * time.Second
	// IngestMemoryPerBody is the default ingest memory budget in bodies of max_content_length: three
	// maximum POSTs are read and checked at once, and a fourth waits.
	IngestMemoryPerBody = 3
	// DefaultSweepInterval is how often the hub purges what retention no longer keeps: expired
	// object versions and old statuses. Hourly keeps a retention to within an hour, and each sweep
	// only reads collections' oldest versions.
	DefaultSweepInterval = time.Hour
	// MinStatusRetention keeps a status long enough for its submitter to read it.
	MinStatusRetention = time.Hour
)

// Config is everything Run needs, decided before it starts.
type Config struct {
	// Listen is the TCP address to serve on.
	Listen string
	// DataDir holds the node's signing key, the first operator token, seeded partner tokens and the
	// embedded database. It is created, with mode 0700, if missing.
	DataDir string
	// MongoURI selects MongoDB instead of the embedded database when set. It may hold a password
	// only when it came from the environment: see ParseConfig.
	MongoURI string
	// MongoURIFile names a file holding the MongoDB connection string, read when the store is
	// opened: the way to pass one with a password where the environment is not private enough
	// (a Kubernetes secret mounted as a file, a Docker secret).
	MongoURIFile  string
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

	// TLSCert and TLSKey, PEM files set together, make the hub serve HTTPS only, with TLS 1.2 or
	// later. Server.Reload reads them again, so a renewed certificate needs no restart.
	TLSCert string
	TLSKey  string
	// ClientCA, a PEM file of CA certificates, lets partners authenticate with a client certificate
	// those CAs issued instead of a token (see auth.CertificateMember for how one names a member).
	// It needs TLS. Every certificate the CAs sign for a member's name opens that member's grants,
	// so the CAs must be ones the operator trusts to issue for partners, not a public CA.
	ClientCA string
	// MetricsListen, when set, is where /metrics is served, and then the only place: operators
	// scrape from their internal network, and need not open the partners' address to do so.
	// Unset, /metrics is served with the admin API.
	MetricsListen string
	// AdminListen, when set, is where the admin API (and /metrics, unless MetricsListen is set) is
	// served, and then the only place: Listen answers 404 under /admin/. Unset, the admin API is
	// served on Listen, which the hub allows only when Listen is a loopback address and no proxy
	// is trusted (see adminExposed): partners cannot reach it then. Any other hub must give the
	// admin API an address of its own, so that no deployment hands it to partners by accident.
	AdminListen string
	// TrustedProxies are the load balancers and proxies, as addresses or CIDR ranges, whose
	// X-Forwarded-For header names the client. The hub trusts no header from anyone else, since a
	// client could name any address in it and escape its per-address limit.
	TrustedProxies []string
	// MemberRate and MemberBurst limit each member's requests on this node; a zero rate turns the
	// limit off. AuthFailureRate and AuthFailureBurst limit failed authentications per client address.
	MemberRate       float64
	MemberBurst      int
	AuthFailureRate  float64
	AuthFailureBurst int

	// ReadHeaderTimeout bounds the wait for a request's headers; IdleTimeout closes a keep-alive
	// connection left unused.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	// MinTransferRate, in bytes per second, is the slowest a request body may arrive, and an answer
	// be taken, once TransferGrace has passed: slower clients are cut, so that trickling a body or
	// not reading an answer cannot hold a connection for good. 0 turns the check off.
	MinTransferRate int64
	TransferGrace   time.Duration
	// MaxConnections bounds the connections open at once on the partners' listener; 0 means half
	// the process's open-file limit. MaxConnectionsPerAddress bounds those of one client address
	// (IPv6: one /64); 0 turns it off. Behind a proxy every client has the proxy's address.
	MaxConnections           int
	MaxConnectionsPerAddress int
	// IngestMemory is the hub-wide budget, in bytes, of request bodies being read and checked at
	// once; 0 means IngestMemoryPerBody times MaxContentLength. A POST beyond it waits up to
	// IngestWait, then is answered 503 with Retry-After.
	IngestMemory int64
	IngestWait   time.Duration

	// StatusRetention is how long status resources are kept after their request, at least
	// MinStatusRetention. SweepInterval is how often the hub purges expired objects and statuses;
	// 0 turns the periodic sweep off (an operator then runs taxiictl sweep).
	StatusRetention time.Duration
	SweepInterval   time.Duration
	// PullDetailRetention is how long the ids of each pull are kept beside its compact ledger
	// entry, for "who pulled my object"; at least MinStatusRetention.
	PullDetailRetention time.Duration
	// ConsoleURL is the web console's address as browsers reach it (scheme and host), from which
	// identity providers' redirect address is made; needed with ConsoleProviders.
	ConsoleURL string
	// ConsoleAdminURL is the operators' console's address (on the admin listener), needed with an
	// operators' identity provider.
	ConsoleAdminURL string
	// ConsoleProviders is a YAML file listing the OpenID Connect providers people sign in to the
	// console with: each member's, and the operators' (see console.Provider).
	ConsoleProviders string
	// ConsoleIdleTimeout and ConsoleSessionTimeout end a console session unused, or open, that
	// long; ConsoleMaxSessions bounds the sessions open at once on this node.
	ConsoleIdleTimeout    time.Duration
	ConsoleSessionTimeout time.Duration
	ConsoleMaxSessions    int
}

// ingestMemory is the ingest budget the config gives, with its default worked out.
func (c Config) ingestMemory() int64 {
	if c.IngestMemory > 0 {
		return c.IngestMemory
	}
	return IngestMemoryPerBody * c.MaxContentLength
}

// maxConnections is the limit on open connections the config gives, with its default worked out.
func (c Config) maxConnections() int {
	if c.MaxConnections > 0 {
		return c.MaxConnections
	}
	return defaultMaxConnections()
}

// defaults is the configuration with nothing set.
func defaults() Config {
	return Config{
		Listen:           DefaultListen,
		DataDir:          DefaultDataDir,
		MongoDatabase:    DefaultMongoDatabase,
		Issuer:           auth.DefaultIssuer,
		MaxContentLength: taxii.DefaultMaxContentLength,
		TokenTTL:         admin.DefaultTokenTTL,
		MaxTokenTTL:      admin.DefaultMaxTokenTTL,
		RequestTimeout:   DefaultRequestTimeout,
		ShutdownTimeout:  DefaultShutdownTimeout,
		MemberRate:       DefaultMemberRate,
		MemberBurst:      DefaultMemberBurst,
		AuthFailureRate:  DefaultAuthFailureRate,
		AuthFailureBurst: DefaultAuthFailureBurst,

		ReadHeaderTimeout:        DefaultReadHeaderTimeout,
		IdleTimeout:              DefaultIdleTimeout,
		MinTransferRate:          DefaultMinTransferRate,
		TransferGrace:            DefaultTransferGrace,
		MaxConnectionsPerAddress: DefaultMaxConnectionsPerAddress,
		IngestWait:               DefaultIngestWait,
		StatusRetention:          store.DefaultStatusRetention,
		SweepInterval:            DefaultSweepInterval,
		PullDetailRetention:      store.DefaultPullDetailRetention,
		ConsoleIdleTimeout:       console.DefaultIdleTimeout,
		ConsoleSessionTimeout:    console.DefaultAbsoluteTimeout,
		ConsoleMaxSessions:       console.DefaultMaxSessions,
	}
}

// A setting is one configuration key: a flag, the same key in a config file, and the environment
// variable TAXIIHUB_<KEY> with dashes as underscores. set parses its text into a Config.
type setting struct {
	name  string
	usage string
	set   func(c *Config, v string) error
}

// settings is every key, in the order of the flags' help. It is a table so that the flag, the
// environment variable and the config-file key cannot drift apart.
var settings = []setting{
	{"listen", "`address` to serve on (default " + DefaultListen + ")", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"data-dir", "`directory` for the embedded database, keys and tokens (default " + DefaultDataDir + ")", func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"mongo-uri", "MongoDB connection `URI`, without a password; one with a password must come from the environment or --mongo-uri-file",
		func(c *Config, v string) error { c.MongoURI = v; return nil }},
	{"mongo-uri-file", "`file` holding the MongoDB connection string, which may hold a password", func(c *Config, v string) error { c.MongoURIFile = v; return nil }},
	{"mongo-database", "MongoDB database `name` (default " + DefaultMongoDatabase + ")", func(c *Config, v string) error { c.MongoDatabase = v; return nil }},
	{"signing-key-file", "Ed25519 signing key `file` (PEM); default: signing-key.pem in the data directory, created on first start",
		func(c *Config, v string) error { c.SigningKeyFile = v; return nil }},
	{"issuer", "`issuer` claim of the hub's tokens (default " + auth.DefaultIssuer + ")", func(c *Config, v string) error { c.Issuer = v; return nil }},
	{"max-content-length", "largest request body in `bytes`, advertised as max_content_length (default " + strconv.FormatInt(taxii.DefaultMaxContentLength, 10) + ")", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		c.MaxContentLength = n
		return nil
	}},
	{"seed", "spec `file` of partnerships, collections, members and grants to apply at start; writes a token per member to <data-dir>/tokens",
		func(c *Config, v string) error { c.Seed = v; return nil }},
	{"token-ttl", "`lifetime` of tokens issued without one, such as 90d or 720h (default 90d)", ttlSetting(func(c *Config) *time.Duration { return &c.TokenTTL })},
	{"max-token-ttl", "longest token `lifetime` the hub issues (default 365d)", ttlSetting(func(c *Config) *time.Duration { return &c.MaxTokenTTL })},
	{"request-timeout", "`duration` each request may take (default 30s)", durationSetting(func(c *Config) *time.Duration { return &c.RequestTimeout })},
	{"shutdown-timeout", "`duration` in-flight requests have to finish on shutdown (default 20s)", durationSetting(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"tls-cert", "TLS certificate chain `file` (PEM); with --tls-key the hub serves HTTPS only; reread on SIGHUP", func(c *Config, v string) error { c.TLSCert = v; return nil }},
	{"tls-key", "TLS private key `file` (PEM) of --tls-cert", func(c *Config, v string) error { c.TLSKey = v; return nil }},
	{"client-ca", "`file` of CA certificates (PEM) whose client certificates authenticate partners; needs TLS", func(c *Config, v string) error { c.ClientCA = v; return nil }},
	{"metrics-listen", "serve /metrics on this `address` only, instead of with the admin API", func(c *Config, v string) error { c.MetricsListen = v; return nil }},
	{"admin-listen", "serve the admin API on this `address` only, never on --listen; needed unless --listen is a loopback address and no proxy is trusted",
		func(c *Config, v string) error { c.AdminListen = v; return nil }},
	{"trusted-proxies", "comma-separated `addresses` or CIDR ranges of proxies whose X-Forwarded-For is believed (default none)", func(c *Config, v string) error {
		c.TrustedProxies = nil
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
		return nil
	}},
	{"member-rate", "`requests` per second each member may sustain on this node; 0 turns the limit off (default 50)", floatSetting(func(c *Config) *float64 { return &c.MemberRate })},
	{"member-burst", "`requests` a member may send at once above its rate (default 1000)", intSetting(func(c *Config) *int { return &c.MemberBurst })},
	{"auth-failure-rate", "failed `authentications` per second one client address may sustain; 0 turns the limit off (default 0.2)",
		floatSetting(func(c *Config) *float64 { return &c.AuthFailureRate })},
	{"auth-failure-burst", "failed `authentications` a client address may make at once above its rate (default 20)", intSetting(func(c *Config) *int { return &c.AuthFailureBurst })},
	{"read-header-timeout", "`duration` a client has to send its request headers (default 10s)", durationSetting(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
	{"idle-timeout", "`duration` after which an unused keep-alive connection is closed (default 2m)", durationSetting(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{"min-transfer-rate", "slowest a body may arrive and an answer be read, in `bytes` per second, after --transfer-grace; 0 turns the check off (default 32768)",
		int64Setting(func(c *Config) *int64 { return &c.MinTransferRate })},
	{"transfer-grace", "`duration` a transfer may take before --min-transfer-rate applies (default 10s)", durationSetting(func(c *Config) *time.Duration { return &c.TransferGrace })},
	{"max-connections", "open `connections` on --listen at most; 0 means half the open-file limit (default 0)", intSetting(func(c *Config) *int { return &c.MaxConnections })},
	{"max-connections-per-address", "open `connections` one client address (IPv6: /64) may hold; 0 turns the limit off (default 64)",
		intSetting(func(c *Config) *int { return &c.MaxConnectionsPerAddress })},
	{"ingest-memory", "`bytes` of request bodies read and checked at once, hub-wide; 0 means 3 times --max-content-length (default 0)",
		int64Setting(func(c *Config) *int64 { return &c.IngestMemory })},
	{"ingest-wait", "`duration` a POST waits for room in --ingest-memory before it is answered 503 (default 5s)", durationSetting(func(c *Config) *time.Duration { return &c.IngestWait })},
	{"status-retention", "`time` a status resource is kept after its request, such as 30d or 36h; reading it later answers 404 (default 30d)",
		daysSetting(func(c *Config) *time.Duration { return &c.StatusRetention })},
	{"sweep-interval", "`duration` between purges of expired objects (collections' retention) and statuses; 0 turns them off (default 1h)",
		durationSetting(func(c *Config) *time.Duration { return &c.SweepInterval })},
	{"pull-detail-retention", "`time` the ids of each pull are kept for \"who pulled\", such as 365d; the ledger keeps their digest for good (default 365d)",
		daysSetting(func(c *Config) *time.Duration { return &c.PullDetailRetention })},
	{"console-url", "`URL` (scheme and host) browsers reach the console at; needed with --console-identity-providers",
		func(c *Config, v string) error { c.ConsoleURL = v; return nil }},
	{"console-admin-url", "`URL` (scheme and host) browsers reach the operators' console at, on --admin-listen; needed with an operators' identity provider",
		func(c *Config, v string) error { c.ConsoleAdminURL = v; return nil }},
	{"console-identity-providers", "YAML `file` of the OpenID Connect providers people sign in to the console with",
		func(c *Config, v string) error { c.ConsoleProviders = v; return nil }},
	{"console-idle-timeout", "`duration` after which an unused console session ends (default 30m)",
		durationSetting(func(c *Config) *time.Duration { return &c.ConsoleIdleTimeout })},
	{"console-session-timeout", "`duration` after which a console session ends, used or not (default 12h)",
		durationSetting(func(c *Config) *time.Duration { return &c.ConsoleSessionTimeout })},
	{"console-max-sessions", "console `sessions` open at once on this node; beyond it the least recently used ends (default 10000)",
		intSetting(func(c *Config) *int { return &c.ConsoleMaxSessions })},
}

// daysSetting reads whole days (30d) or a Go duration (36h).
func daysSetting(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := admin.ParseTTL(v)
		if err != nil {
			return fmt.Errorf("%q: want a whole number of days such as 30d, or a duration such as 36h", v)
		}
		*field(c) = d
		return nil
	}
}

func int64Setting(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		*field(c) = n
		return nil
	}
}

func durationSetting(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*field(c) = d
		return nil
	}
}

// ttlSetting reads a token lifetime as admin.ParseTTL does, so that days are accepted everywhere.
func ttlSetting(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := admin.ParseTTL(v)
		if err != nil {
			return err
		}
		*field(c) = d
		return nil
	}
}

func floatSetting(field func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		*field(c) = f
		return nil
	}
}

func intSetting(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		*field(c) = n
		return nil
	}
}

// envName is the environment variable of a setting.
func envName(key string) string {
	return "TAXIIHUB_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}

// configFileEnv names the config file when --config is not given.
const configFileEnv = "TAXIIHUB_CONFIG"

// ParseConfig reads the configuration. Each setting is taken from its flag, else its TAXIIHUB_*
// environment variable, else the config file (--config or TAXIIHUB_CONFIG), else its default.
// Every problem is reported at once: values that do not parse, unknown keys in the file, and what
// Validate finds.
//
// A MongoDB URI holding a password is refused in a flag, where anyone on the machine reads it in
// the process list, and in the config file, which is meant to be shared and versioned like any
// other: it belongs in TAXIIHUB_MONGO_URI or in the file --mongo-uri-file names.
func ParseConfig(args []string, getenv func(string) string) (Config, error) {
	fs := flag.NewFlagSet("taxiihub", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flags := map[string]string{}
	for _, s := range settings {
		fs.Func(s.name, s.usage+" (env "+envName(s.name)+")", func(v string) error {
			flags[s.name] = v
			return nil
		})
	}
	configPath := fs.String("config", "", "YAML `file` of settings keyed by flag name; flags and environment variables override it (env "+configFileEnv+")")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, fmt.Errorf("usage of taxiihub:\n%s", usage(fs))
		}
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	var errs []error
	path := *configPath
	if path == "" {
		path = getenv(configFileEnv)
	}
	var file map[string]fileValue
	if path != "" {
		var err error
		if file, err = readConfigFile(path); err != nil {
			errs = append(errs, err) // and go on with the keys it could read, to report their problems too
		}
	}

	cfg := defaults()
	for _, s := range settings {
		var v, where string
		fromEnv := false
		if fv, ok := flags[s.name]; ok {
			v, where = fv, "--"+s.name
		} else if ev := getenv(envName(s.name)); ev != "" {
			v, where, fromEnv = ev, envName(s.name), true
		} else if fv, ok := file[s.name]; ok {
			v, where = fv.text, fmt.Sprintf("%s:%d: %s", path, fv.line, s.name)
		} else {
			continue
		}
		if err := s.set(&cfg, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if s.name == "mongo-uri" && !fromEnv {
			if secret := uriSecret(v); secret != "" {
				why := "anyone on the machine can read flags in the process list"
				if _, isFlag := flags[s.name]; !isFlag {
					why = "config files are shared and versioned like any other file"
				}
				errs = append(errs, fmt.Errorf("%s holds %s, which must not be given there (%s); set %s or put the URI in a file named by --mongo-uri-file",
					where, secret, why, envName("mongo-uri")))
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// uriSecret names the secret a MongoDB connection string holds, or returns "" when it holds none:
// the password of its user information, or an option that carries one. It reads the string by
// hand because url.Parse refuses the host lists of replica-set URIs.
func uriSecret(uri string) string {
	rest := uri
	if _, after, ok := strings.Cut(uri, "://"); ok {
		rest = after
	}
	authority, query := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority = rest[:i]
		if _, q, ok := strings.Cut(rest[i:], "?"); ok {
			query = q
		}
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		if _, password, ok := strings.Cut(authority[:at], ":"); ok && password != "" {
			return "a password"
		}
	}
	values, _ := url.ParseQuery(query) // a malformed option still has its well-formed ones checked
	for key, vs := range values {
		k := strings.ToLower(key)
		switch {
		case strings.Contains(k, "password"):
			return "the option " + key
		case k == "authmechanismproperties" && strings.Contains(strings.ToUpper(strings.Join(vs, ",")), "AWS_SESSION_TOKEN"):
			return "an AWS session token"
		}
	}
	return ""
}

// Validate reports every problem at once, so an operator fixes a config in one pass. It also checks
// that the files the config names for TLS and MongoDB can be read, since a typo there would
// otherwise be found only after everything else had been set up.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: %w", c.Listen, err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("a data directory is needed for the signing key, the operator token and the embedded database"))
	}
	if c.MongoURI != "" && c.MongoURIFile != "" {
		errs = append(errs, errors.New("both a MongoDB URI and a MongoDB URI file are set; set one"))
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		errs = append(errs, errors.New("the MongoDB URI must start with mongodb:// or mongodb+srv://"))
	}
	if (c.MongoURI != "" || c.MongoURIFile != "") && c.MongoDatabase == "" {
		errs = append(errs, errors.New("a MongoDB database name is needed"))
	}
	if c.MaxContentLength < 1<<10 {
		errs = append(errs, fmt.Errorf("max content length %d is below 1 KiB", c.MaxContentLength))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("request timeout %v must be positive", c.RequestTimeout))
	}
	if c.ConsoleIdleTimeout <= 0 || c.ConsoleSessionTimeout <= 0 || c.ConsoleIdleTimeout > c.ConsoleSessionTimeout {
		errs = append(errs, fmt.Errorf("console timeouts must be positive, the idle one (%v) no longer than the session's (%v)",
			c.ConsoleIdleTimeout, c.ConsoleSessionTimeout))
	}
	if c.ConsoleMaxSessions < 1 {
		errs = append(errs, fmt.Errorf("console max sessions %d must be at least 1", c.ConsoleMaxSessions))
	}
	for name, u := range map[string]string{"--console-url": c.ConsoleURL, "--console-admin-url": c.ConsoleAdminURL} {
		if p, err := url.Parse(u); u != "" && (err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.Path != "" && p.Path != "/") {
			errs = append(errs, fmt.Errorf("%s %q must be the console's scheme and host as browsers reach it, such as https://hub.example.org", name, u))
		}
	}
	if c.ConsoleProviders != "" {
		if c.ConsoleAdminURL == "" {
			errs = append(errs, errors.New("the operators' identity providers need --console-admin-url, the operators' console's address as browsers reach it (such as https://hub-admin.example.org)"))
		}
		if _, err := readProviders(c.ConsoleProviders); err != nil {
			errs = append(errs, err)
		}
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
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("a TLS certificate and its key are set together: give both --tls-cert and --tls-key, or neither"))
	}
	if c.ClientCA != "" && c.TLSCert == "" {
		errs = append(errs, errors.New("client certificates need TLS: set --tls-cert and --tls-key with --client-ca"))
	}
	for _, f := range []struct{ what, path string }{
		{"TLS certificate", c.TLSCert}, {"TLS key", c.TLSKey}, {"client CA file", c.ClientCA}, {"MongoDB URI file", c.MongoURIFile},
	} {
		if f.path == "" {
			continue
		}
		if fh, err := os.Open(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.what, err))
		} else {
			fh.Close()
		}
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			errs = append(errs, fmt.Errorf("metrics address %q: %w", c.MetricsListen, err))
		} else if c.MetricsListen == c.Listen {
			errs = append(errs, fmt.Errorf("metrics address %q is the listen address; leave it unset to serve /metrics there", c.MetricsListen))
		}
	}
	if c.AdminListen != "" {
		if _, _, err := net.SplitHostPort(c.AdminListen); err != nil {
			errs = append(errs, fmt.Errorf("admin address %q (--admin-listen): %w", c.AdminListen, err))
		} else if c.AdminListen == c.Listen || c.AdminListen == c.MetricsListen {
			errs = append(errs, fmt.Errorf("admin address %q (--admin-listen) is the listen or metrics address; the admin API needs an address of its own", c.AdminListen))
		}
	} else if why := c.adminExposed(); why != "" {
		errs = append(errs, fmt.Errorf("the admin API would be served on the partners' address %s, which %s; "+
			"set --admin-listen (%s) to an address of its own, such as 127.0.0.1:8081", c.Listen, why, envName("admin-listen")))
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			errs = append(errs, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR range", p))
		}
	}
	for _, d := range []struct {
		what string
		d    time.Duration
	}{{"read header timeout", c.ReadHeaderTimeout}, {"idle timeout", c.IdleTimeout}, {"transfer grace", c.TransferGrace}, {"ingest wait", c.IngestWait}} {
		if d.d <= 0 {
			errs = append(errs, fmt.Errorf("%s %v must be positive", d.what, d.d))
		}
	}
	if c.StatusRetention < MinStatusRetention {
		errs = append(errs, fmt.Errorf("status retention %s is below %s: submitters could not read their statuses",
			admin.FormatTTL(c.StatusRetention), admin.FormatTTL(MinStatusRetention)))
	}
	if c.PullDetailRetention < MinStatusRetention {
		errs = append(errs, fmt.Errorf("pull detail retention %s is below %s", admin.FormatTTL(c.PullDetailRetention), admin.FormatTTL(MinStatusRetention)))
	}
	if c.SweepInterval < 0 {
		errs = append(errs, fmt.Errorf("sweep interval %v must not be negative (0 turns the sweep off)", c.SweepInterval))
	}
	if c.MinTransferRate < 0 {
		errs = append(errs, fmt.Errorf("min transfer rate %d must be at least 0 (0 turns the check off)", c.MinTransferRate))
	}
	if c.MaxConnections < 0 || c.MaxConnectionsPerAddress < 0 {
		errs = append(errs, fmt.Errorf("connection limits %d and %d must be at least 0", c.MaxConnections, c.MaxConnectionsPerAddress))
	}
	if c.IngestMemory < 0 || (c.IngestMemory > 0 && c.IngestMemory < c.MaxContentLength) {
		errs = append(errs, fmt.Errorf("ingest memory %d must be 0 (the default) or at least the max content length %d, or a largest POST could never be read",
			c.IngestMemory, c.MaxContentLength))
	}
	for _, l := range []struct {
		what  string
		rate  float64
		burst int
	}{{"member", c.MemberRate, c.MemberBurst}, {"auth failure", c.AuthFailureRate, c.AuthFailureBurst}} {
		switch {
		case math.IsNaN(l.rate) || math.IsInf(l.rate, 0) || l.rate < 0:
			errs = append(errs, fmt.Errorf("%s rate %v must be a number of at least 0 (0 turns the limit off)", l.what, l.rate))
		case l.rate > 0 && l.burst < 1:
			errs = append(errs, fmt.Errorf("%s burst %d must be at least 1 when the %s rate is set", l.what, l.burst, l.what))
		}
	}
	return errors.Join(errs...)
}

// adminExposed says why partners could reach the admin API were it served on Listen, or returns ""
// when they cannot: Listen is a loopback address (a host name other than localhost counts as
// reachable, since it may resolve to anything) and no proxy is trusted, since a trusted proxy
// stands in front of the hub to forward partners to it.
func (c Config) adminExposed() string {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "" // reported as a bad listen address
	}
	addr, err := netip.ParseAddr(host)
	if host != "localhost" && (err != nil || !addr.IsLoopback()) {
		return "is not a loopback address"
	}
	if len(c.TrustedProxies) > 0 {
		return "a trusted proxy forwards partners to"
	}
	return ""
}

func usage(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	return b.String()
}
