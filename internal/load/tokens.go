package load

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ReadMembers reads the partner tokens the hub writes when seeded, <dir>/<member-id>.jwt, as members
// ordered by id.
func ReadMembers(dir string) ([]Member, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.jwt"))
	if err != nil {
		return nil, fmt.Errorf("load: tokens in %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("load: no tokens (*.jwt) in %s", dir)
	}
	slices.Sort(paths)
	members := make([]Member, 0, len(paths))
	for _, p := range paths {
		m, err := ReadMember(strings.TrimSuffix(filepath.Base(p), ".jwt"), p)
		if err != nil {
			return nil, err
		}
		members = append(members, m)
	}
	return members, nil
}

// ReadMember reads one member's token from a file.
func ReadMember(id, file string) (Member, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return Member{}, fmt.Errorf("load: token of %s: %w", id, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return Member{}, fmt.Errorf("load: token file %s of %s is empty", file, id)
	}
	return Member{ID: id, Token: tok}, nil
}
