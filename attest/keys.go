// Package attest is how foureyes' roles vouch for the facts they own: each
// role signs in-toto Statement v1 attestations in DSSE envelopes with its own
// Ed25519 key, and whoever relies on a fact verifies it against the public
// keys the pinned policy lists for that role. Nothing that merely arrives
// through Temporal is trusted.
package attest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Roles that sign facts. Each has its own key.
const (
	RoleOrchestrator = "orchestrator" // seals the audit chain
	RoleBuild        = "build"        // build provenance
	RoleReview       = "review"       // automated review verdicts
	RoleApproval     = "approval"     // decisions and cancels it authenticated
	RoleDeploy       = "deploy"       // deploy, verify and rollback receipts
)

// Roles lists the signing roles in a fixed order.
var Roles = []string{RoleOrchestrator, RoleBuild, RoleReview, RoleApproval, RoleDeploy}

// publicPrefix marks a public key as written in a policy: "ed25519:<base64>".
const publicPrefix = "ed25519:"

// IsRole reports whether role is one of Roles.
func IsRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// FormatPublicKey writes pub as a policy lists it.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return publicPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads "ed25519:<base64 of 32 bytes>".
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b64, ok := strings.CutPrefix(s, publicPrefix)
	if !ok {
		return nil, fmt.Errorf("want %q followed by the base64 of an Ed25519 public key", publicPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("not base64: %v", err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("an Ed25519 public key has %d bytes, got %d", ed25519.PublicKeySize, len(raw))
	}
	return ed25519.PublicKey(raw), nil
}

// KeyID names a public key: hex SHA-256 of its 32 bytes, first 16 digits.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// GenerateKey makes a new key pair: the private key as PKCS#8 PEM and the
// public key as a policy lists it.
func GenerateKey() (privatePEM []byte, public string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, "", err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), FormatPublicKey(pub), nil
}

// WriteKeyPair writes DIR/ROLE.key (mode 0600) and DIR/ROLE.pub and returns
// the public key. An existing key is never overwritten.
func WriteKeyPair(dir, role string) (string, error) {
	if !IsRole(role) {
		return "", fmt.Errorf("unknown role %q: want one of %s", role, strings.Join(Roles, ", "))
	}
	keyPath := filepath.Join(dir, role+".key")
	if _, err := os.Stat(keyPath); err == nil {
		return "", fmt.Errorf("%s exists: refusing to overwrite a signing key", keyPath)
	}
	priv, pub, err := GenerateKey()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(keyPath, priv, 0o600); err != nil {
		return "", err
	}
	return pub, os.WriteFile(filepath.Join(dir, role+".pub"), []byte(pub+"\n"), 0o644)
}

// ReadPrivateKey reads a PKCS#8 PEM Ed25519 private key; errors name the file.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: not a PEM \"PRIVATE KEY\" block", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %v", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not an Ed25519 key (%T)", path, key)
	}
	return priv, nil
}

// ErrNoKey: a role that signs was started without its key.
var ErrNoKey = errors.New("no signing key")
