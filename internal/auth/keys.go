package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SigningKeyFile is the signing key's file name inside the data directory.
const SigningKeyFile = "signing-key.pem"

// Keyring holds the key the hub signs tokens with and every key it accepts signatures from. Keys are
// named by a kid derived from the public key, so tokens name the key that can verify them and a
// rotated-out key keeps verifying the tokens it signed.
type Keyring struct {
	signingKID string
	signing    ed25519.PrivateKey
	verifying  map[string]ed25519.PublicKey
}

// NewKeyring makes a keyring that signs with signing and also verifies with the extra keys.
func NewKeyring(signing ed25519.PrivateKey, alsoVerify ...ed25519.PublicKey) *Keyring {
	k := &Keyring{signing: signing, verifying: map[string]ed25519.PublicKey{}}
	pub := signing.Public().(ed25519.PublicKey)
	k.signingKID = KeyID(pub)
	k.verifying[k.signingKID] = pub
	for _, p := range alsoVerify {
		k.verifying[KeyID(p)] = p
	}
	return k
}

// SigningKeyID is the kid of the key new tokens are signed with.
func (k *Keyring) SigningKeyID() string { return k.signingKID }

func (k *Keyring) verificationKey(kid string) (ed25519.PublicKey, bool) {
	pub, ok := k.verifying[kid]
	return pub, ok
}

// KeyID is the kid of a public key: the start of its SHA-256, enough to tell keys apart without
// publishing anything but the key itself.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// LoadOrCreateSigningKey reads the PEM (PKCS #8) Ed25519 key at path, creating one with mode 0600 when
// the file does not exist. created tells the caller to announce the new key.
func LoadOrCreateSigningKey(path string) (key ed25519.PrivateKey, created bool, err error) {
	key, err = ReadSigningKey(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("auth: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, false, fmt.Errorf("auth: encode signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("auth: create key directory: %w", err)
	}
	// O_EXCL: two hub processes starting on one data directory must not each write their own key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		key, err = ReadSigningKey(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("auth: create signing key file: %w", err)
	}
	if err := errors.Join(pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}), f.Sync(), f.Close()); err != nil {
		return nil, false, fmt.Errorf("auth: write signing key file: %w", err)
	}
	return key, true, nil
}

// ReadSigningKey reads a PEM (PKCS #8) Ed25519 private key.
func ReadSigningKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("auth: %s holds no PEM private key", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: parse signing key %s: %w", path, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: %s holds a %T, want an Ed25519 key", path, parsed)
	}
	return key, nil
}
