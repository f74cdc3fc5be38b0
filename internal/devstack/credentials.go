package devstack

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/codec"
	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/formats/authzconfig"
)

// Identities of the Temporal server (temporal-server/README.md) that are
// not a worker role: each has its own API key.
const (
	IdentityReleaseManager = "release-manager" // the starter CLI and the demo
	IdentityOperator       = "operator"        // read-only: the Web UI and `temporal workflow list`
	IdentityAdmin          = "admin"           // break-glass; tests that must get past the server
)

// RoleIdentity is the server identity of a worker role.
func RoleIdentity(role string) string { return "foureyes-" + role }

// ServerIdentities is every identity of the local server, in config order.
func ServerIdentities() []string {
	var ids []string
	for _, role := range config.Roles {
		ids = append(ids, RoleIdentity(role))
	}
	return append(ids, IdentityReleaseManager, IdentityOperator, IdentityAdmin)
}

// serverRole is the server role an identity has.
func serverRole(identity string) string {
	if role, ok := strings.CutPrefix(identity, "foureyes-"); ok {
		return role
	}
	return identity
}

// Credentials is the local server's authorization: its config file, an API
// key per identity (keys/IDENTITY.key, 0600; the config keeps only their
// SHA-256) and a local CA with the frontend's certificate (tls/), all under
// Dir. Each process of the stack is given only its own key.
type Credentials struct {
	Dir string
	// PlaintextPayloads leaves the clients' payloads unencrypted (the
	// bench's "off" run); otherwise every client gets PayloadKeyFile.
	PlaintextPayloads bool
	// PayloadKeys are the key files clients get, the active one first and
	// then the decrypt-only ones (a rotation); nil: PayloadKeyFile alone.
	PayloadKeys []string
}

// PayloadKeyFile is the AES-256 key every client of the stack encrypts
// its payloads with (codec), made by Ensure; the server never sees it.
func (c Credentials) PayloadKeyFile() string { return payloadKeyFile(c.Dir) }

func payloadKeyFile(dir string) string {
	return filepath.Join(dir, "payload-keys", PayloadKeyID+".key")
}

// PayloadKeyID is the id of the stack's payload key (rotation: docs/DESIGN.md).
const PayloadKeyID = "payload-1"

func ensurePayloadKey(dir string) error {
	_, err := codec.WriteKeyFile(filepath.Dir(payloadKeyFile(dir)), PayloadKeyID)
	return err
}

// payloadKeys is the ring clients get: active key first.
func (c Credentials) payloadKeys() []string {
	switch {
	case c.PlaintextPayloads:
		return nil
	case len(c.PayloadKeys) > 0:
		return c.PayloadKeys
	}
	return []string{c.PayloadKeyFile()}
}

// payloadEnv is the FOUREYES_PAYLOAD_* settings of a client with keys;
// FOUREYES_PAYLOAD_COMPRESSION passes through from this process, so that
// the stack and the bench run with compression off when asked.
func payloadEnv(keys []string) []string {
	if len(keys) == 0 {
		return nil
	}
	env := []string{"FOUREYES_PAYLOAD_KEY_FILE=" + keys[0]}
	if len(keys) > 1 {
		env = append(env, "FOUREYES_PAYLOAD_OLD_KEY_FILES="+strings.Join(keys[1:], ","))
	}
	if v, ok := os.LookupEnv("FOUREYES_PAYLOAD_COMPRESSION"); ok {
		env = append(env, "FOUREYES_PAYLOAD_COMPRESSION="+v)
	}
	return env
}

// ConfigFile is the server's authorization config.
func (c Credentials) ConfigFile() string { return filepath.Join(c.Dir, "temporal-server.yaml") }

// KeyFile is identity's API key.
func (c Credentials) KeyFile(identity string) string {
	return filepath.Join(c.Dir, "keys", identity+".key")
}

// Ensure makes what is missing (keys and CA are kept across runs) and
// rewrites the config when it would change.
func (c Credentials) Ensure() error {
	if err := os.MkdirAll(filepath.Join(c.Dir, "keys"), 0o700); err != nil {
		return err
	}
	if err := c.ensureTLS(); err != nil {
		return fmt.Errorf("local CA: %w", err)
	}
	if err := ensurePayloadKey(c.Dir); err != nil {
		return fmt.Errorf("payload key: %w", err)
	}
	cfg := authzconfig.Config{Namespace: "default", Roles: ServerRoles()}
	for _, id := range ServerIdentities() {
		key, err := ensureAPIKey(c.KeyFile(id))
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(key))
		cfg.Identities = append(cfg.Identities, authzconfig.Identity{Name: id, Role: serverRole(id), APIKeySHA256: hex.EncodeToString(sum[:])})
	}
	return writeServerConfig(c.ConfigFile(), cfg)
}

// ReadKey returns identity's API key.
func (c Credentials) ReadKey(identity string) (string, error) {
	b, err := os.ReadFile(c.KeyFile(identity))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// ensureAPIKey returns the key in path, writing a new random one if there is none.
func ensureAPIKey(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), os.Chmod(path, 0o600)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	key := base64.RawURLEncoding.EncodeToString(b)
	return key, os.WriteFile(path, []byte(key+"\n"), 0o600)
}

// ServerRoles is each worker role's queue and the activity types its worker
// registers (api.QueueActivities, which activities' tests pin to the role
// structs' methods), so the server allows what the roles run and nothing
// more. It is written from the contract alone: the stack's tooling links
// neither the workflow nor the activities for it.
func ServerRoles() map[string]authzconfig.RoleRules {
	rule := func(queue string) authzconfig.RoleRules {
		return authzconfig.RoleRules{TaskQueue: queue, ActivityTypes: api.QueueActivities[queue]}
	}
	orchestrator, approval := rule(api.QueueOrchestrator), rule(api.QueueApproval)
	orchestrator.WorkflowTypes = []string{api.WorkflowRelease}
	approval.Updates = []string{api.UpdateDecide, api.UpdateCancel}
	return map[string]authzconfig.RoleRules{
		config.RoleOrchestrator: orchestrator,
		config.RoleBuild:        rule(api.QueueBuild),
		config.RoleReview:       rule(api.QueueReview),
		config.RoleApproval:     approval,
		config.RoleDeploy:       rule(api.QueueDeploy),
	}
}

func writeServerConfig(path string, cfg authzconfig.Config) error {
	data, err := authzconfig.Encode(cfg, "# Written by go run ./stack from the workers' task queues and activity types\n"+
		"# (devstack.ServerRoles); the API keys are in keys/, only their SHA-256 here.\n")
	if err != nil {
		return err
	}
	return writeIfChanged(path, data, 0o644)
}

// ClientEnv is the TEMPORAL_* environment of a client calling addr as
// identity: the key by file (kept out of /proc/*/environ), the local CA.
func (c Credentials) ClientEnv(addr, identity string) []string {
	return append([]string{"TEMPORAL_ADDRESS=" + addr, "TEMPORAL_API_KEY_FILE=" + c.KeyFile(identity),
		"TEMPORAL_TLS_CA=" + c.CAFile()}, payloadEnv(c.payloadKeys())...)
}

// Anonymous is how a client with no credential reaches the server at addr:
// TLS only (the server answers its health checks, nothing else).
func (c Credentials) Anonymous(addr string) config.Temporal {
	return config.Temporal{Address: addr, Namespace: "default", TLSCA: c.CAFile(), Compression: "none"}
}

// Temporal is how identity reaches the server at addr.
func (c Credentials) Temporal(addr, identity string) config.Temporal {
	t := c.Anonymous(addr)
	t.APIKeyFile = c.KeyFile(identity)
	if keys := c.payloadKeys(); len(keys) > 0 {
		t.PayloadKeyFile, t.PayloadOldKeyFiles = keys[0], keys[1:]
	}
	return t
}

// CLIEnv is the environment of the Temporal CLI (the operators' client)
// calling addr as identity: it reads no key file, so the key itself.
func (c Credentials) CLIEnv(addr, identity string) ([]string, error) {
	key, err := c.ReadKey(identity)
	if err != nil {
		return nil, err
	}
	return append(BaseEnv(), "TEMPORAL_ADDRESS="+addr, "TEMPORAL_NAMESPACE=default",
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH="+c.CAFile(), "TEMPORAL_API_KEY="+key), nil
}
