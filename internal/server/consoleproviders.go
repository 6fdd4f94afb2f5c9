package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/goccy/go-yaml"

	"taxiihub/internal/admin"
	"taxiihub/internal/console"
)

// consoleProviders is the file --console-identity-providers names: the operators' providers.
type consoleProviders struct {
	Providers []console.Provider `yaml:"providers"`
}

// readProviders reads and checks the console's identity providers, reading each client secret
// from its file or environment variable; unknown keys are errors.
func readProviders(path string) ([]console.Provider, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("console identity providers: %w", err)
	}
	var f consoleProviders
	if err := yaml.NewDecoder(bytes.NewReader(data), yaml.Strict()).Decode(&f); err != nil {
		return nil, fmt.Errorf("console identity providers %s: %w", path, err)
	}
	var errs []error
	names := map[string]bool{}
	for i := range f.Providers {
		p := &f.Providers[i]
		if p.Member != "" || !p.Operators {
			errs = append(errs, fmt.Errorf("%s: identity provider %q: this file holds the operators' providers (operators: true); "+
				"a member's provider is set on the member (identity_provider), with the admin API or a spec file", path, p.Name))
			continue
		}
		if err := p.Check(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
		}
		if names[p.Name] {
			errs = append(errs, fmt.Errorf("%s: identity provider %q is listed twice", path, p.Name))
		}
		names[p.Name] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f.Providers, nil
}

// memberProviders lists the members' identity providers for the partners' console, as operators
// set them on the members.
func memberProviders(svc *admin.Service) func(ctx context.Context) ([]console.Provider, error) {
	return func(ctx context.Context) ([]console.Provider, error) {
		ms, err := svc.IdentityProviders(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]console.Provider, len(ms))
		for i, m := range ms {
			out[i] = console.Provider{Name: m.Member, Member: m.Member, Issuer: m.Issuer, ClientID: m.ClientID,
				ClientSecretFile: m.ClientSecretFile, ClientSecretEnv: m.ClientSecretEnv, RolesClaim: m.RolesClaim}
		}
		return out, nil
	}
}
