package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/foureyes/foureyes/formats/authzconfig"
)

// Identities `init` writes: one per role of foureyes.
var initIdentities = []struct{ name, role string }{
	{"foureyes-orchestrator", authzconfig.RoleOrchestrator},
	{"foureyes-build", authzconfig.RoleBuild},
	{"foureyes-review", authzconfig.RoleReview},
	{"foureyes-approval", authzconfig.RoleApproval},
	{"foureyes-deploy", authzconfig.RoleDeploy},
	{"release-manager", authzconfig.RoleReleaseManager},
	{"operator", authzconfig.RoleOperator},
	{"admin", authzconfig.RoleAdmin},
}

// initDir writes DIR/temporal-server.yaml and DIR/keys/IDENTITY.key (0600),
// a new random API key per identity; it refuses to overwrite either.
func initDir(dir string, stdout io.Writer) error {
	cfgFile := filepath.Join(dir, "temporal-server.yaml")
	keyDir := filepath.Join(dir, "keys")
	if _, err := os.Stat(cfgFile); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s exists: not overwriting it", cfgFile)
	}
	if err := os.MkdirAll(keyDir, 0o700); err != nil {
		return err
	}
	cfg := authzconfig.Config{Namespace: "default", Roles: authzconfig.DefaultRoles()}
	for _, id := range initIdentities {
		key, err := NewAPIKey()
		if err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(keyDir, id.name+".key"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(f, key)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		cfg.Identities = append(cfg.Identities, authzconfig.Identity{Name: id.name, Role: id.role, APIKeySHA256: authzconfig.HashKey(key)})
	}
	var data bytes.Buffer
	data.WriteString("# temporal-server authorization: the task queue and activity types of each worker role,\n" +
		"# and the identities (API key SHA-256 or client certificate subject) with their roles.\n")
	enc := yaml.NewEncoder(&data)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return err
	}
	if err := os.WriteFile(cfgFile, data.Bytes(), 0o644); err != nil {
		return err
	}
	if _, err := authzconfig.Load(cfgFile); err != nil {
		return fmt.Errorf("the config written does not load: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s and an API key per identity in %s\n", cfgFile, keyDir)
	return nil
}

// NewAPIKey is 32 random bytes, base64url.
func NewAPIKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
