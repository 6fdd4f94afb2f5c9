package server

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// writeFile writes content to a file in a fresh directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseConfig(t *testing.T) {
	with := func(change func(*Config)) Config {
		c := defaults()
		change(&c)
		return c
	}
	file := writeFile(t, "taxiihub.yaml", `# every kind of value a config file holds
listen: 0.0.0.0:9443
admin-listen: 127.0.0.1:8081
data-dir: /var/lib/taxiihub
mongo-database: hub
request-timeout: 45s
token-ttl: 30d
member-rate: 2.5
member-burst: 7
auth-failure-rate: 0
trusted-proxies: [10.0.0.0/8, 192.0.2.7]
`)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want Config
	}{
		{"defaults", nil, nil, defaults()},
		{"environment", nil, map[string]string{
			"TAXIIHUB_LISTEN": "0.0.0.0:9000", "TAXIIHUB_DATA_DIR": "/var/lib/taxiihub",
			"TAXIIHUB_MONGO_URI": "mongodb://db/?replicaSet=rs0", "TAXIIHUB_REQUEST_TIMEOUT": "5s",
			"TAXIIHUB_MEMBER_RATE": "3", "TAXIIHUB_TRUSTED_PROXIES": "10.1.0.0/16, 10.2.0.1",
			"TAXIIHUB_ADMIN_LISTEN": "127.0.0.1:8081",
		}, with(func(c *Config) {
			c.AdminListen = "127.0.0.1:8081"
			c.Listen, c.DataDir, c.MongoURI, c.RequestTimeout = "0.0.0.0:9000", "/var/lib/taxiihub", "mongodb://db/?replicaSet=rs0", 5*time.Second
			c.MemberRate, c.TrustedProxies = 3, []string{"10.1.0.0/16", "10.2.0.1"}
		})},
		{"flags win over the environment", []string{"--listen", "127.0.0.1:1", "--data-dir", "d", "--mongo-uri", "mongodb://x"},
			map[string]string{"TAXIIHUB_LISTEN": "0.0.0.0:9000", "TAXIIHUB_DATA_DIR": "e", "TAXIIHUB_MONGO_URI": "mongodb://y"},
			with(func(c *Config) { c.Listen, c.DataDir, c.MongoURI = "127.0.0.1:1", "d", "mongodb://x" })},
		{"seed and token lifetimes in days", []string{"--seed", "deploy/examples/partnerships.yaml", "--max-token-ttl", "180d"},
			map[string]string{"TAXIIHUB_TOKEN_TTL": "30d", "TAXIIHUB_MAX_TOKEN_TTL": "8760h"},
			with(func(c *Config) {
				c.Seed, c.TokenTTL, c.MaxTokenTTL = "deploy/examples/partnerships.yaml", 30*24*time.Hour, 180*24*time.Hour
			})},
		{"config file", []string{"--config", file}, nil, with(func(c *Config) {
			c.AdminListen = "127.0.0.1:8081"
			c.Listen, c.DataDir, c.MongoDatabase, c.RequestTimeout = "0.0.0.0:9443", "/var/lib/taxiihub", "hub", 45*time.Second
			c.TokenTTL, c.MemberRate, c.MemberBurst, c.AuthFailureRate = 30*24*time.Hour, 2.5, 7, 0
			c.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.7"}
		})},
		{"config file named by the environment", nil, map[string]string{"TAXIIHUB_CONFIG": file}, with(func(c *Config) {
			c.AdminListen = "127.0.0.1:8081"
			c.Listen, c.DataDir, c.MongoDatabase, c.RequestTimeout = "0.0.0.0:9443", "/var/lib/taxiihub", "hub", 45*time.Second
			c.TokenTTL, c.MemberRate, c.MemberBurst, c.AuthFailureRate = 30*24*time.Hour, 2.5, 7, 0
			c.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.7"}
		})},
		// One key set at every level: the flag wins over the environment, the environment over the
		// file, the file over the default; keys set lower down still come through.
		{"flag > environment > file > default", []string{"--config", file, "--listen", "127.0.0.1:1"},
			map[string]string{"TAXIIHUB_LISTEN": "127.0.0.1:2", "TAXIIHUB_DATA_DIR": "/srv/hub", "TAXIIHUB_MEMBER_BURST": "9"},
			with(func(c *Config) {
				c.AdminListen = "127.0.0.1:8081"
				c.Listen, c.DataDir, c.MongoDatabase, c.RequestTimeout = "127.0.0.1:1", "/srv/hub", "hub", 45*time.Second
				c.TokenTTL, c.MemberRate, c.MemberBurst, c.AuthFailureRate = 30*24*time.Hour, 2.5, 9, 0
				c.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.7"}
			})},
		{"transfers, connections and the ingest budget", []string{"--read-header-timeout", "3s", "--idle-timeout", "1m",
			"--min-transfer-rate", "0", "--transfer-grace", "30s", "--max-connections", "500", "--max-connections-per-address", "0"},
			map[string]string{"TAXIIHUB_INGEST_MEMORY": "134217728", "TAXIIHUB_INGEST_WAIT": "2s"},
			with(func(c *Config) {
				c.ReadHeaderTimeout, c.IdleTimeout, c.MinTransferRate, c.TransferGrace = 3*time.Second, time.Minute, 0, 30*time.Second
				c.MaxConnections, c.MaxConnectionsPerAddress, c.IngestMemory, c.IngestWait = 500, 0, 128<<20, 2*time.Second
			})},
		{"a password in the environment is fine", nil, map[string]string{"TAXIIHUB_MONGO_URI": "mongodb://hub:s3cret@db1,db2,db3/?replicaSet=rs0"},
			with(func(c *Config) { c.MongoURI = "mongodb://hub:s3cret@db1,db2,db3/?replicaSet=rs0" })},
		{"a user without a password in a flag is fine", []string{"--mongo-uri", "mongodb://hub@db/?authMechanism=MONGODB-X509"}, nil,
			with(func(c *Config) { c.MongoURI = "mongodb://hub@db/?authMechanism=MONGODB-X509" })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig(tc.args, env(tc.env))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// The admin API may share the partners' listener only where partners cannot reach it: a loopback
// address with no proxy in front. Anything else must name an admin address, or the hub does not start.
func TestAdminAPINeedsItsOwnAddressWherePartnersReachTheHub(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		refused string
	}{
		{"loopback", []string{"--listen", "127.0.0.1:8080"}, ""},
		{"IPv6 loopback", []string{"--listen", "[::1]:8080"}, ""},
		{"localhost", []string{"--listen", "localhost:8080"}, ""},
		{"every interface", []string{"--listen", "0.0.0.0:8080"}, "is not a loopback address"},
		{"a host name", []string{"--listen", "hub.example:8443"}, "is not a loopback address"},
		{"loopback behind a proxy", []string{"--listen", "127.0.0.1:8080", "--trusted-proxies", "127.0.0.1"}, "a trusted proxy"},
		{"every interface with an admin address", []string{"--listen", "0.0.0.0:8080", "--admin-listen", "127.0.0.1:8081"}, ""},
		{"the admin address is the listen address", []string{"--listen", "0.0.0.0:8080", "--admin-listen", "0.0.0.0:8080"}, "needs an address of its own"},
		{"the admin address is the metrics address", []string{"--listen", "0.0.0.0:8080", "--admin-listen", "127.0.0.1:9090",
			"--metrics-listen", "127.0.0.1:9090"}, "needs an address of its own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(tc.args, env(nil))
			switch {
			case tc.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused) || !strings.Contains(err.Error(), "--admin-listen")):
				t.Errorf("got %v; want a refusal saying %q and naming --admin-listen", err, tc.refused)
			}
		})
	}
}

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	cfg := Config{Listen: "nonsense", DataDir: "", RequestTimeout: 0, ShutdownTimeout: -time.Second, MaxContentLength: 10,
		MongoURI: "postgres://db", MongoURIFile: "/nowhere/uri", TLSKey: "/nowhere/key.pem", ClientCA: "ca.pem",
		MetricsListen: "nonsense", TrustedProxies: []string{"10.0.0.0/8", "the load balancer"},
		MemberRate: -1, AuthFailureRate: 1, AuthFailureBurst: 0}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("an invalid config was accepted")
	}
	for _, want := range []string{"listen address", "data directory", "request timeout", "shutdown timeout", "max content length",
		"both a MongoDB URI and a MongoDB URI file", "mongodb://", "MongoDB URI file: open /nowhere/uri",
		"--tls-cert and --tls-key, or neither", "client certificates need TLS", "TLS key: open /nowhere/key.pem",
		"metrics address", `trusted proxy "the load balancer"`, "member rate -1", "auth failure burst 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "10.0.0.0/8") {
		t.Errorf("a good trusted proxy was reported:\n%v", err)
	}
}

// TestParseConfigReportsEveryProblemAtOnce spreads mistakes over a flag, the environment and the
// config file: one run names them all, each with where it came from.
func TestParseConfigReportsEveryProblemAtOnce(t *testing.T) {
	file := writeFile(t, "hub.yaml", "listen: 127.0.0.1:8443\nmember-burst: lots\nmember_rate: 3\ncolour: blue\ntls-cert: {file: a.pem}\n")
	_, err := ParseConfig([]string{"--config", file, "--request-timeout", "soon"},
		env(map[string]string{"TAXIIHUB_SHUTDOWN_TIMEOUT": "later", "TAXIIHUB_METRICS_LISTEN": "127.0.0.1:8443"}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"--request-timeout: ", "TAXIIHUB_SHUTDOWN_TIMEOUT: ", file + ":2: member-burst: ",
		file + `:3: unknown key "member_rate"`, file + `:4: unknown key "colour"`, file + ":5: tls-cert: the value must be",
		"metrics address \"127.0.0.1:8443\" is the listen address",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %q:\n%v", want, err)
		}
	}
}

func TestParseConfigRefusesBadInput(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown flag":         {"--nope"},
		"stray argument":       {"serve"},
		"bad duration":         {"--request-timeout", "soon"},
		"invalid listen":       {"--listen", "8080"},
		"help is an error":     {"-help"},
		"bad token TTL":        {"--token-ttl", "a quarter"},
		"TTL above max":        {"--token-ttl", "400d"},
		"TTL below 1m":         {"--token-ttl", "30s"},
		"max TTL below 1m":     {"--max-token-ttl", "0s", "--token-ttl", "0s"},
		"bad rate":             {"--member-rate", "fast"},
		"infinite rate":        {"--member-rate", "+Inf"},
		"no config file":       {"--config", "/nowhere/taxiihub.yaml"},
		"key without cert":     {"--tls-key", "key.pem"},
		"CA without TLS":       {"--client-ca", "ca.pem"},
		"metrics on the API":   {"--metrics-listen", DefaultListen},
		"bad trusted proxy":    {"--trusted-proxies", "10.0.0.0/33"},
		"burst without room":   {"--member-burst", "0"},
		"URI and URI file":     {"--mongo-uri", "mongodb://db", "--mongo-uri-file", "/dev/null"},
		"not a MongoDB URI":    {"--mongo-uri", "db.example:27017"},
		"missing URI file":     {"--mongo-uri-file", "/nowhere/mongo-uri"},
		"missing certificate":  {"--tls-cert", "/nowhere/cert.pem", "--tls-key", "/nowhere/key.pem"},
		"no header timeout":    {"--read-header-timeout", "0s"},
		"no idle timeout":      {"--idle-timeout", "0s"},
		"negative rate":        {"--min-transfer-rate", "-1"},
		"no grace":             {"--transfer-grace", "0s"},
		"negative connections": {"--max-connections-per-address", "-1"},
		// A budget below the largest body would leave such a POST waiting for ever.
		"budget below a body": {"--ingest-memory", "1024"},
		"no ingest wait":      {"--ingest-wait", "0s"},
	} {
		if _, err := ParseConfig(args, env(nil)); err == nil {
			t.Errorf("%s: accepted %q", name, args)
		}
	}
}

func TestConfigFileRefusesWhatItCannotRead(t *testing.T) {
	for name, content := range map[string]string{
		"repeated key":       "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n",
		"not a mapping":      "- listen\n",
		"two documents":      "listen: 127.0.0.1:1\n---\nlisten: 127.0.0.1:2\n",
		"nested list":        "trusted-proxies: [[10.0.0.1]]\n",
		"not YAML":           "listen: [\n",
		"the config key":     "config: other.yaml\n",
		"a mapping as value": "listen: {host: 0.0.0.0, port: 8080}\n",
	} {
		path := writeFile(t, "hub.yaml", content)
		if _, err := ParseConfig([]string{"--config", path}, env(nil)); err == nil {
			t.Errorf("%s: accepted %q", name, content)
		}
	}
	empty := writeFile(t, "hub.yaml", "# nothing set yet\n")
	got, err := ParseConfig([]string{"--config", empty}, env(nil))
	if err != nil || !reflect.DeepEqual(got, defaults()) {
		t.Errorf("an empty file: %+v, %v; want the defaults", got, err)
	}
}

// TestMongoPasswordOnlyFromTheEnvironmentOrAFile refuses a connection string carrying a secret in a
// flag (readable by anyone in ps) or in the config file, with an error that says where to put it
// instead and never repeats the secret.
func TestMongoPasswordOnlyFromTheEnvironmentOrAFile(t *testing.T) {
	const secret = "s3cret-Pa55"
	uriFile := writeFile(t, "mongo-uri", "mongodb://hub:"+secret+"@db1:27017,db2:27017,db3:27017/?replicaSet=rs0\n")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		file string
		ok   bool
	}{
		{"password in a flag", []string{"--mongo-uri", "mongodb://hub:" + secret + "@db1:27017,db2:27017/?replicaSet=rs0"}, nil, "", false},
		{"srv URI with a password in a flag", []string{"--mongo-uri", "mongodb+srv://hub:" + secret + "@cluster.example/"}, nil, "", false},
		{"key file password option in a flag", []string{"--mongo-uri", "mongodb://db/?tls=true&tlsCertificateKeyFilePassword=" + secret}, nil, "", false},
		{"AWS session token in a flag", []string{"--mongo-uri", "mongodb://db/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:" + secret}, nil, "", false},
		{"password in the config file", nil, nil, "mongo-uri: mongodb://hub:" + secret + "@db/?replicaSet=rs0\n", false},
		{"password in the environment", nil, map[string]string{"TAXIIHUB_MONGO_URI": "mongodb://hub:" + secret + "@db/"}, "", true},
		{"password in the URI file", []string{"--mongo-uri-file", uriFile}, nil, "", true},
		{"URI file named in the config file", nil, nil, "mongo-uri-file: " + uriFile + "\n", true},
		{"no password in a flag", []string{"--mongo-uri", "mongodb://db1,db2,db3/?replicaSet=rs0"}, nil, "", true},
		{"an at sign in the path is no password", []string{"--mongo-uri", "mongodb://db/hub?appName=a:b@c"}, nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.file != "" {
				args = append(args, "--config", writeFile(t, "hub.yaml", tc.file))
			}
			cfg, err := ParseConfig(args, env(tc.env))
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if cfg.MongoURI == "" && cfg.MongoURIFile == "" {
					t.Errorf("no MongoDB configured: %+v", cfg)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted a secret outside the environment")
			}
			for _, want := range []string{"TAXIIHUB_MONGO_URI", "--mongo-uri-file"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not point to %s: %v", want, err)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

func TestDefaultsAreValid(t *testing.T) {
	if err := defaults().Validate(); err != nil {
		t.Fatal(err)
	}
	if got := defaults(); got.TokenTTL != admin.DefaultTokenTTL || got.MemberRate != DefaultMemberRate {
		t.Errorf("defaults %+v", got)
	}
}

// TestDefaultIngestMemoryFollowsTheBodyLimit: unset, the ingest budget is three bodies of the
// largest size, whatever that size is.
func TestDefaultIngestMemoryFollowsTheBodyLimit(t *testing.T) {
	cfg, err := ParseConfig([]string{"--max-content-length", "1048576"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ingestMemory(); got != IngestMemoryPerBody<<20 {
		t.Errorf("ingest budget %d; want %d", got, IngestMemoryPerBody<<20)
	}
	if cfg.maxConnections() <= 0 || uint64(cfg.maxConnections()) > fileLimit() {
		t.Errorf("default connection limit %d with an open-file limit of %d; want half of it", cfg.maxConnections(), fileLimit())
	}
}

// TestReadmeConfigFileExample parses the config file the README shows: every key is known and the
// configuration is valid (the admin API off the partners' address included), but for the TLS and
// MongoDB files it names, which this machine does not have.
func TestReadmeConfigFileExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "**Config file**")
	if !ok {
		t.Fatal("the README has no **Config file** paragraph")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("the README's config file example is not a yaml block")
	}
	file := writeFile(t, "hub.yaml", example)
	_, err = ParseConfig([]string{"--config", file}, env(nil))
	if err == nil {
		t.Fatal("the example names TLS files this machine lacks, and was accepted")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, "TLS certificate: open") && !strings.HasPrefix(line, "TLS key: open") &&
			!strings.HasPrefix(line, "MongoDB URI file: open") {
			t.Errorf("the README's config example has a problem besides missing files: %s", line)
		}
	}
}

// TestReadmeConsoleProvidersExample reads the operators' identity providers file the README shows:
// complete and valid once its secret is in the environment, refused without it.
func TestReadmeConsoleProvidersExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "in the file `--console-identity-providers`")
	if !ok {
		t.Fatal("the README shows no identity providers file")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("the README's identity providers example is not a yaml block")
	}
	file := writeFile(t, "providers.yaml", example)
	if _, err := readProviders(file); err == nil || !strings.Contains(err.Error(), "OPERATORS_OIDC_SECRET is empty or unset") {
		t.Errorf("a provider without its secret: %v", err)
	}
	t.Setenv("OPERATORS_OIDC_SECRET", "from-the-environment")
	ps, err := readProviders(file)
	if err != nil || len(ps) != 1 || !ps[0].Operators || ps[0].Name != "operators" {
		t.Fatalf("the README's providers: %+v, %v", ps, err)
	}
	member := writeFile(t, "member.yaml", strings.Replace(example, "operators: true", "member: cert-eu", 1))
	if _, err := readProviders(member); err == nil || !strings.Contains(err.Error(), "set on the member") {
		t.Errorf("a member's provider in the hub's file: %v", err)
	}
}

// TestConsoleSettingsAreChecked: console timeouts and sizes out of range, and identity providers
// without the console's address, are refused at start with the others.
func TestConsoleSettingsAreChecked(t *testing.T) {
	providers := writeFile(t, "providers.yaml", "providers:\n  - name: ops\n    operators: true\n    issuer: https://idp.example\n"+
		"    client_id: hub\n    client_secret_env: TAXIIHUB_TEST_NONE\n    roles_claim: roles\n    colour: blue\n")
	_, err := ParseConfig([]string{"--console-idle-timeout", "2h", "--console-session-timeout", "1h", "--console-max-sessions", "0",
		"--console-identity-providers", providers}, env(nil))
	if err == nil {
		t.Fatal("bad console settings accepted")
	}
	for _, want := range []string{"console timeouts", "console max sessions 0", "need --console-admin-url", "unknown field \"colour\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
