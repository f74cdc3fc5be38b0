// Package demokeys holds the demo identities' own SSH keys: derived from
// each identity's name, so that every machine has the same keys and the
// demo repositories' signed commits have the same ids everywhere. They are
// public knowledge: never list them in a real policy.
package demokeys

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Private is identity's demo Ed25519 key.
func Private(identity string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("foureyes demo person key: " + identity))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Signer is identity's demo key as an SSH signer.
func Signer(identity string) ssh.Signer {
	s, err := ssh.NewSignerFromKey(Private(identity))
	if err != nil {
		panic(err) // an Ed25519 key always makes a signer
	}
	return s
}

// AuthorizedKey is identity's public key as a policy lists it:
// "ssh-ed25519 AAAA… identity@demo".
func AuthorizedKey(identity string) string {
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(Signer(identity).PublicKey())))
	return line + " " + identity + "@demo"
}

// WriteFile writes identity's private key in OpenSSH format to
// dir/identity (mode 0600, as ssh-keygen and git require) and returns the
// path; the public key goes to the same path plus ".pub".
func WriteFile(dir, identity string) (string, error) {
	block, err := ssh.MarshalPrivateKey(Private(identity), identity+"@demo")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, identity)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", fmt.Errorf("demo key of %s: %w", identity, err)
	}
	return path, os.WriteFile(path+".pub", []byte(AuthorizedKey(identity)+"\n"), 0o644)
}
