package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"taxiihub/internal/store"
)

// MemberURIPrefix begins the URI subject alternative name by which a client certificate names a
// hub member: taxiihub:member:<member-id>.
const MemberURIPrefix = "taxiihub:member:"

// CertificateRecords is what certificate authentication reads from the store on every request.
type CertificateRecords interface {
	Member(ctx context.Context, id string) (store.Member, error)
	Grants(ctx context.Context, memberID string) ([]store.Grant, error)
}

// Certificates authenticates partners by the TLS client certificate they presented, as an
// alternative to a token. It only maps a certificate to a member: verifying the certificate against
// the hub's client CA is the TLS layer's job, and a certificate that reaches Partner unverified
// must never have come this far.
type Certificates struct {
	records CertificateRecords
}

// NewCertificates returns a certificate authenticator reading members and grants from records.
func NewCertificates(records CertificateRecords) *Certificates {
	return &Certificates{records: records}
}

// CertificateMember returns the member id a client certificate names: the <id> of its URI subject
// alternative name taxiihub:member:<id> when it has one, else its subject common name. The URI wins
// because an organisation's CA may already use the common name for something else; two different
// member URIs in one certificate are refused rather than guessed between.
func CertificateMember(cert *x509.Certificate) (string, error) {
	var named string
	for _, u := range cert.URIs {
		id, ok := strings.CutPrefix(u.String(), MemberURIPrefix)
		if !ok {
			continue
		}
		if named != "" && named != id {
			return "", &CredentialError{Reason: "the client certificate names more than one member"}
		}
		named = id
	}
	if named == "" {
		named = cert.Subject.CommonName
	}
	if named == "" {
		return "", &CredentialError{Reason: "the client certificate names no member"}
	}
	return named, nil
}

// Partner returns the principal of the member a verified client certificate names, with the
// member's grants. The member must exist: removing a member cuts its certificates off at once, as
// it revokes its tokens. A certificate principal has no token id.
func (c *Certificates) Partner(ctx context.Context, cert *x509.Certificate) (Principal, error) {
	id, err := CertificateMember(cert)
	if err != nil {
		return Principal{}, err
	}
	if _, err := c.records.Member(ctx, id); errors.Is(err, store.ErrNotFound) {
		return Principal{}, &CredentialError{Reason: "the client certificate names no member of this hub"}
	} else if err != nil {
		return Principal{}, fmt.Errorf("auth: member %s of a client certificate: %w", id, err)
	}
	grants, err := c.records.Grants(ctx, id)
	if err != nil {
		return Principal{}, fmt.Errorf("auth: grants of %s: %w", id, err)
	}
	return NewPrincipal(id, "", grants), nil
}
