package httpapi

import (
	"context"
	"crypto/x509"
	"net/http"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/auth"
)

// partnerAuthenticator authenticates a TAXII caller by its Authorization header or, when the
// connection presented one, by its verified client certificate (nil when there is none).
type partnerAuthenticator interface {
	Partner(ctx context.Context, authorization string, cert *x509.Certificate) (auth.Principal, error)
}

const principalKey = "principal"

// authenticate admits only authenticated partners; everything under TAXII needs one. The principal
// is kept in the gin context for the handlers, and for the rate limit, logs and metrics after them.
func (a *api) authenticate(c *gin.Context) {
	p, err := a.partners.Partner(c.Request.Context(), c.GetHeader("Authorization"), verifiedClientCertificate(c.Request))
	if err != nil {
		writeError(c, a.log, err)
		c.Abort()
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

func principal(c *gin.Context) auth.Principal {
	p, _ := c.Get(principalKey)
	return p.(auth.Principal)
}

// memberOf is the partner a request was authenticated as, or "" when none was.
func memberOf(c *gin.Context) string {
	if p, ok := c.Get(principalKey); ok {
		return p.(auth.Principal).MemberID
	}
	return ""
}

// verifiedClientCertificate is the client certificate of r's connection once the TLS handshake has
// verified it against the hub's client CA, or nil: a certificate merely presented proves nothing.
func verifiedClientCertificate(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}
