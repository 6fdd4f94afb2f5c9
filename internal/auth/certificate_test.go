package auth_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"taxiihub/internal/auth"
	"taxiihub/internal/store"
	"taxiihub/internal/store/sqlitestore"
)

func TestCertificatesMapToMembers(t *testing.T) {
	ctx := t.Context()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(ctx) })
	for _, err := range []error{
		st.CreateAPIRoot(ctx, store.APIRoot{Slug: "eu-japan", Title: "EU–Japan"}),
		st.CreateCollection(ctx, store.Collection{ID: "4f9b8a57-7c3b-4c8e-9a43-0a4a2a6f1d10", APIRoot: "eu-japan", Title: "Threats"}),
		st.CreateMember(ctx, store.Member{ID: "cert-eu", Name: "CERT-EU", Jurisdiction: "EU"}),
		st.CreateMember(ctx, store.Member{ID: "nl-nctv", Name: "NCTV", Jurisdiction: "NL"}),
		st.PutGrant(ctx, store.Grant{MemberID: "cert-eu", APIRoot: "eu-japan", CollectionID: "4f9b8a57-7c3b-4c8e-9a43-0a4a2a6f1d10", Read: true}),
	} {
		if err != nil {
			t.Fatalf("prepare: %v", err)
		}
	}
	certs := auth.NewCertificates(st)

	uri := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	cases := []struct {
		name string
		cert x509.Certificate
		want string // member id; empty when the certificate must be refused
	}{
		{"common name", x509.Certificate{Subject: pkix.Name{CommonName: "cert-eu"}}, "cert-eu"},
		{"member URI", x509.Certificate{URIs: []*url.URL{uri("taxiihub:member:cert-eu")}}, "cert-eu"},
		{"member URI wins over the common name",
			x509.Certificate{Subject: pkix.Name{CommonName: "CERT-EU Liaison Office"}, URIs: []*url.URL{uri("https://cert.europa.eu/"), uri("taxiihub:member:nl-nctv")}},
			"nl-nctv"},
		{"the same member URI twice", x509.Certificate{URIs: []*url.URL{uri("taxiihub:member:cert-eu"), uri("taxiihub:member:cert-eu")}}, "cert-eu"},
		{"two member URIs", x509.Certificate{URIs: []*url.URL{uri("taxiihub:member:cert-eu"), uri("taxiihub:member:nl-nctv")}}, ""},
		{"no name at all", x509.Certificate{}, ""},
		{"a member that does not exist", x509.Certificate{Subject: pkix.Name{CommonName: "mallory"}}, ""},
		{"common names are exact", x509.Certificate{Subject: pkix.Name{CommonName: "CERT-EU"}}, ""},
		{"an empty member URI", x509.Certificate{URIs: []*url.URL{uri("taxiihub:member:")}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := certs.Partner(ctx, &tc.cert)
			if tc.want == "" {
				if !errors.Is(err, auth.ErrUnauthenticated) {
					t.Errorf("got %+v, %v; want the certificate refused as credentials", p, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if p.MemberID != tc.want {
				t.Errorf("member %q, want %q", p.MemberID, tc.want)
			}
		})
	}

	p, err := certs.Partner(ctx, &x509.Certificate{Subject: pkix.Name{CommonName: "cert-eu"}})
	if err != nil {
		t.Fatal(err)
	}
	if read, write, seen := p.Access("eu-japan", "4f9b8a57-7c3b-4c8e-9a43-0a4a2a6f1d10"); !seen || !read || write {
		t.Errorf("the certificate's principal has rights read=%v write=%v seen=%v; want the member's grant", read, write, seen)
	}
	if p.TokenID != "" {
		t.Errorf("a certificate principal carries token id %q", p.TokenID)
	}

	// Removing the member cuts its certificates off.
	nctv := &x509.Certificate{URIs: []*url.URL{uri("taxiihub:member:nl-nctv")}}
	if _, err := certs.Partner(ctx, nctv); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMember(ctx, "nl-nctv", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Partner(ctx, nctv); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("the certificate of a removed member: %v; want it refused", err)
	}
}
