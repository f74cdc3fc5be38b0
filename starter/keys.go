package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/foureyes/foureyes/attest"
)

// cmdKeysGenerate writes a role's signing key pair: DIR/ROLE.key (0600,
// only that role is given it) and DIR/ROLE.pub (for the policy's keys).
func cmdKeysGenerate(e *env, args []string) error {
	fs := newFlags("keys generate")
	dir := fs.String("dir", ".", "the `DIR`: write ROLE.key and ROLE.pub there")
	pos, err := parseArgs(fs, args, "ROLE")
	if err != nil {
		return err
	}
	role := pos[0]
	if !attest.IsRole(role) {
		return fail(exitUsage, "unknown role %q: want one of %s", role, strings.Join(attest.Roles, ", "))
	}
	keyPath := filepath.Join(*dir, role+".key")
	if _, err := os.Lstat(keyPath); err == nil || !errors.Is(err, os.ErrNotExist) {
		return fail(exitFailure, "%s exists: refusing to overwrite a signing key", keyPath)
	}
	pub, err := attest.WriteKeyPair(*dir, role)
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s (private, mode 0600) and %s\n", keyPath, filepath.Join(*dir, role+".pub"))
	fmt.Fprintf(e.stdout, "%s\n", pub)
	fmt.Fprintf(e.stdout, "  add under keys.%s in the policy; give %s to the %s role only (FOUREYES_%s_SIGNING_KEY_FILE)\n",
		role, keyPath, role, strings.ToUpper(role))
	return nil
}
