// Package demotokens reads deployments/demo-tokens.env, the public API tokens of
// the demo identities of deployments/policy.yaml. It imports nothing of
// foureyes, so that every package's tests (policy's and gateway's own
// among them) and the stack tools can share the one reader.
package demotokens

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// prefix starts every variable of the file: FOUREYES_DEMO_TOKEN_CI_BOT is ci-bot's.
const prefix = "FOUREYES_DEMO_TOKEN_"

// Path is the file in the repository at root.
func Path(root string) string { return filepath.Join(root, "deployments", "demo-tokens.env") }

// Var names identity's variable in the file: ci-bot -> FOUREYES_DEMO_TOKEN_CI_BOT.
func Var(identity string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(identity, "-", "_"))
}

// Read maps each identity of the file at root to its token. Every line
// but blanks and comments must be FOUREYES_DEMO_TOKEN_<NAME>=<token>.
func Read(root string) (map[string]string, error) {
	path := Path(root)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tokens := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, token, err := parse(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		tokens[id] = token
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s: no tokens", path)
	}
	return tokens, nil
}

// parse reads one FOUREYES_DEMO_TOKEN_<NAME>=<token> line.
func parse(line string) (id, token string, err error) {
	key, token, ok := strings.Cut(line, "=")
	name, named := strings.CutPrefix(strings.TrimSpace(key), prefix)
	token = strings.TrimSpace(token)
	if !ok || !named || name == "" || token == "" {
		return "", "", fmt.Errorf("want %s<NAME>=<token>, got %q", prefix, line)
	}
	return strings.ReplaceAll(strings.ToLower(name), "_", "-"), token, nil
}

// Get is identity's token, or an error naming the variable that is missing.
func Get(tokens map[string]string, identity string) (string, error) {
	if tok, ok := tokens[identity]; ok {
		return tok, nil
	}
	return "", fmt.Errorf("deployments/demo-tokens.env has no %s", Var(identity))
}
