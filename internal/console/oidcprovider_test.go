package console_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// rolesClaim is the claim the test provider lists people's roles in.
const rolesClaim = "taxiihub_roles"

// person is someone the test provider signs in.
type person struct {
	username, password, email string
	roles                     []string
}

// roleStorage is the zitadel example provider's in-memory storage, which answers userinfo with each
// person's roles as well: a real OpenID Connect provider, over HTTP, with a roles claim.
type roleStorage struct {
	*storage.Storage
	roles map[string][]string // by subject
}

func (s roleStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	info.AppendClaims(rolesClaim, s.roles[info.Subject])
	return nil
}

func (s roleStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	info.AppendClaims(rolesClaim, s.roles[info.Subject])
	return nil
}

// startProvider starts an OpenID Connect provider on a loopback port and returns its issuer. The
// clients are web clients (client secret, code flow) redirecting to the given addresses.
func startProvider(t *testing.T, people []person, clients map[string]string, secret string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	users := map[string]*storage.User{}
	roles := map[string][]string{}
	for _, p := range people {
		users[p.username] = &storage.User{ID: p.username, Username: p.username, Password: p.password, Email: p.email,
			EmailVerified: true, FirstName: p.username, LastName: "Test"}
		roles[p.username] = p.roles
	}
	usersFile := filepath.Join(t.TempDir(), "users.json")
	b, err := json.Marshal(users)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(usersFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	userStore, err := storage.StoreFromFile(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]*storage.Client{}
	for id, redirect := range clients {
		registered[id] = storage.WebClient(id, secret, redirect)
	}
	st := roleStorage{Storage: storage.NewStorageWithClients(userStore, registered), roles: roles}
	srv := &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return issuer
}
