package server

import (
	"strings"
	"testing"
	"time"

	"taxiihub/internal/admin"
	"taxiihub/internal/auth"
	"taxiihub/internal/taxii"
)

func TestParseConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want Config
	}{
		{"defaults", nil, nil, Config{Listen: DefaultListen, DataDir: DefaultDataDir, MongoDatabase: DefaultMongoDatabase,
			RequestTimeout: DefaultRequestTimeout, ShutdownTimeout: DefaultShutdownTimeout, Issuer: auth.DefaultIssuer, MaxContentLength: taxii.DefaultMaxContentLength,
			TokenTTL: admin.DefaultTokenTTL, MaxTokenTTL: admin.DefaultMaxTokenTTL}},
		{"environment", nil, map[string]string{
			"TAXIIHUB_LISTEN": "0.0.0.0:9000", "TAXIIHUB_DATA_DIR": "/var/lib/taxiihub",
			"TAXIIHUB_MONGO_URI": "mongodb://db/?replicaSet=rs0", "TAXIIHUB_REQUEST_TIMEOUT": "5s",
		}, Config{Listen: "0.0.0.0:9000", DataDir: "/var/lib/taxiihub", MongoURI: "mongodb://db/?replicaSet=rs0",
			MongoDatabase: DefaultMongoDatabase, RequestTimeout: 5 * time.Second, ShutdownTimeout: DefaultShutdownTimeout, Issuer: auth.DefaultIssuer, MaxContentLength: taxii.DefaultMaxContentLength,
			TokenTTL: admin.DefaultTokenTTL, MaxTokenTTL: admin.DefaultMaxTokenTTL}},
		{"flags win over the environment", []string{"--listen", "127.0.0.1:1", "--data-dir", "d", "--mongo-uri", "mongodb://x"},
			map[string]string{"TAXIIHUB_LISTEN": "0.0.0.0:9000", "TAXIIHUB_DATA_DIR": "e", "TAXIIHUB_MONGO_URI": "mongodb://y"},
			Config{Listen: "127.0.0.1:1", DataDir: "d", MongoURI: "mongodb://x", MongoDatabase: DefaultMongoDatabase,
				RequestTimeout: DefaultRequestTimeout, ShutdownTimeout: DefaultShutdownTimeout, Issuer: auth.DefaultIssuer, MaxContentLength: taxii.DefaultMaxContentLength,
				TokenTTL: admin.DefaultTokenTTL, MaxTokenTTL: admin.DefaultMaxTokenTTL}},
		{"seed and token lifetimes in days", []string{"--seed", "deploy/examples/partnerships.yaml", "--max-token-ttl", "180d"},
			map[string]string{"TAXIIHUB_TOKEN_TTL": "30d", "TAXIIHUB_MAX_TOKEN_TTL": "8760h"},
			Config{Listen: DefaultListen, DataDir: DefaultDataDir, MongoDatabase: DefaultMongoDatabase, Seed: "deploy/examples/partnerships.yaml",
				RequestTimeout: DefaultRequestTimeout, ShutdownTimeout: DefaultShutdownTimeout, Issuer: auth.DefaultIssuer, MaxContentLength: taxii.DefaultMaxContentLength,
				TokenTTL: 30 * 24 * time.Hour, MaxTokenTTL: 180 * 24 * time.Hour}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig(tc.args, env(tc.env))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	cfg := Config{Listen: "nonsense", DataDir: "", RequestTimeout: 0, ShutdownTimeout: -time.Second, MaxContentLength: 10}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("an invalid config was accepted")
	}
	for _, want := range []string{"listen address", "data directory", "request timeout", "shutdown timeout", "max content length"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %q: %v", want, err)
		}
	}
}

func TestParseConfigRefusesBadInput(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown flag":     {"--nope"},
		"stray argument":   {"serve"},
		"bad duration":     {"--request-timeout", "soon"},
		"invalid listen":   {"--listen", "8080"},
		"help is an error": {"-help"},
		"bad token TTL":    {"--token-ttl", "a quarter"},
		"TTL above max":    {"--token-ttl", "400d"},
		"TTL below 1m":     {"--token-ttl", "30s"},
		"max TTL below 1m": {"--max-token-ttl", "0s", "--token-ttl", "0s"},
	} {
		if _, err := ParseConfig(args, func(string) string { return "" }); err == nil {
			t.Errorf("%s: accepted %q", name, args)
		}
	}
	if _, err := ParseConfig(nil, func(k string) string {
		if k == "TAXIIHUB_SHUTDOWN_TIMEOUT" {
			return "later"
		}
		return ""
	}); err == nil || !strings.Contains(err.Error(), "TAXIIHUB_SHUTDOWN_TIMEOUT") {
		t.Errorf("a bad duration in the environment: %v", err)
	}
}
