package auth

import (
	"encoding/base64"
	"strings"
)

// TokenFromAuthorization extracts a hub token from an Authorization header value. It accepts
// "Bearer <jwt>", "Token <jwt>" (taxii2-client's TokenAuth), and Basic with the token as the password
// and any user name, because Microsoft Sentinel and most TAXII clients can only send Basic. Scheme
// names are case-insensitive (MISP sends "basic").
func TokenFromAuthorization(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", &CredentialError{Reason: "no credentials were sent"}
	}
	scheme, value, _ := strings.Cut(header, " ")
	value = strings.TrimSpace(value)
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		if value == "" {
			return "", &CredentialError{Reason: "the " + scheme + " credentials are empty"}
		}
		return value, nil
	case "basic":
		decoded, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return "", &CredentialError{Reason: "the Basic credentials are not base64"}
		}
		_, password, ok := strings.Cut(string(decoded), ":")
		if !ok || password == "" {
			return "", &CredentialError{Reason: "the Basic credentials carry no password; send the token as the password"}
		}
		return password, nil
	default:
		return "", &CredentialError{Reason: "unsupported authorization scheme; use Bearer, Token or Basic"}
	}
}
