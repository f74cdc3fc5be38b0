package devstack

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// KeyFileVar is the variable naming role's signing key file; only that role
// is given it.
func KeyFileVar(role string) string {
	return "FOUREYES_" + strings.ToUpper(role) + "_SIGNING_KEY_FILE"
}

// EnsureKeys makes dir (mode 0700) and, for every signing role without one,
// a key pair in it (attest.WriteKeyPair). Existing keys are kept. It returns
// each role's public key, derived from the private key file.
func EnsureKeys(dir string) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	keys := map[string]string{}
	for _, role := range attest.Roles {
		pub, err := ensureKey(dir, role)
		if err != nil {
			return nil, err
		}
		keys[role] = pub
	}
	return keys, nil
}

// ensureKey returns role's public key, writing a new pair if there is none.
func ensureKey(dir, role string) (string, error) {
	path := filepath.Join(dir, role+".key")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return attest.WriteKeyPair(dir, role)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return "", err
	}
	priv, err := attest.ReadPrivateKey(path)
	if err != nil {
		return "", err
	}
	pub := attest.FormatPublicKey(priv.Public().(ed25519.PublicKey))
	return pub, writeIfChanged(filepath.Join(dir, role+".pub"), []byte(pub+"\n"), 0o644)
}

// ComposePolicy returns base followed by a keys: section listing each
// signing role's public key. base must list no keys of its own; name is
// used in errors.
func ComposePolicy(name string, base []byte, keys map[string]string) ([]byte, error) {
	p, err := policy.Parse(name, base)
	if err != nil {
		return nil, err
	}
	if len(p.Keys) > 0 {
		return nil, fmt.Errorf("%s: keys: already listed; the stack adds its own keys: section to a policy without one", name)
	}
	var b bytes.Buffer
	b.Write(base)
	if len(base) > 0 && base[len(base)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString("\n# Added by the stack: each signing role's public key. The private key\n" +
		"# (ROLE.key in the stack's key folder) is given to that role only.\nkeys:\n")
	for _, role := range attest.Roles {
		fmt.Fprintf(&b, "  %s: [%q]\n", role, keys[role])
	}
	composed, err := policy.Parse(name+" with keys", b.Bytes())
	if err == nil {
		err = composed.RequireKeys(name + " with keys")
	}
	return b.Bytes(), err
}

// WritePolicy writes base (a policy file without keys) followed by the keys
// to out, only when that changes out's content.
func WritePolicy(base, out string, keys map[string]string) error {
	data, err := os.ReadFile(base)
	if err != nil {
		return err
	}
	composed, err := ComposePolicy(base, data, keys)
	if err != nil {
		return err
	}
	return writeIfChanged(out, composed, 0o644)
}

// writeIfChanged leaves path alone when it already holds data.
func writeIfChanged(path string, data []byte, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
