package server

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/goccy/go-yaml"

	"taxiihub/internal/console"
)

// consoleProviders is the file --console-identity-providers names.
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
