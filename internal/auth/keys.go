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
	"strings"
)

// SigningKeyFile is the signing key's file name inside the data directory.
const SigningKeyFile = "signing-key.pem"

// KeyID is the kid of a public key: the start of its SHA-256, enough to tell keys apart without
// publishing anything but the key itself.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// kidLength is the length of every kid KeyID makes; a token naming any other kid cannot be ours,
// and is refused without asking the store about it.
const kidLength = 16

func plausibleKID(kid string) bool {
	if len(kid) != kidLength {
		return false
	}
	for _, r := range kid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// GenerateSigningKey returns a new Ed25519 signing key.
func GenerateSigningKey() (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate signing key: %w", err)
	}
	return key, nil
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
	key, err = GenerateSigningKey()
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("auth: create key directory: %w", err)
	}
	// Exclusive creation: two hub processes starting on one data directory must not each write
	// their own key.
	err = writeSigningKey(path, key)
	if errors.Is(err, fs.ErrExist) {
		key, err = ReadSigningKey(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// ArchivedKeyFile is the name a replaced signing key keeps in its directory: the key file's name
// with the key's kid before the extension, such as signing-key.<kid>.pem.
func ArchivedKeyFile(path, kid string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + kid + ext
}

// ReplaceSigningKeyFile installs next as the key at path and keeps the key it replaces, current,
// under ArchivedKeyFile. The new key is written to a temporary file first and renamed into place,
// so a crash leaves either the old key or the new one at path, never a torn file. It returns the
// archive's path.
func ReplaceSigningKeyFile(path string, current, next ed25519.PrivateKey) (archived string, err error) {
	archived = ArchivedKeyFile(path, KeyID(current.Public().(ed25519.PublicKey)))
	// An archive left by an earlier, interrupted rotation holds this same key: keep it.
	if err := writeSigningKey(archived, current); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	tmp := path + ".new"
	// A leftover from an interrupted rotation holds a key that was never installed.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("auth: remove stale %s: %w", tmp, err)
	}
	if err := writeSigningKey(tmp, next); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("auth: install new signing key: %w", err)
	}
	syncDir(filepath.Dir(path))
	return archived, nil
}

// writeSigningKey creates path with mode 0600 and writes key to it; fs.ErrExist if it exists.
func writeSigningKey(path string, key ed25519.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("auth: encode signing key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("auth: create signing key file: %w", err)
	}
	if err := errors.Join(pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("auth: write signing key file %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable. It is best effort: some file systems cannot sync a
// directory, and the rename itself has already happened.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
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
