package codec

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// A key file holds one AES-256 key, base64 (standard, 44 characters) on one
// line; its id is the file's name without ".key" (payload-2.key: key
// "payload-2"). The id travels with every payload it seals, the key never.
const keyFileSuffix = ".key"

var validKeyID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Key is one key of a ring. It prints as its id only: the key bytes are
// kept inside the AEAD, never in a field a logger could reach.
type Key struct {
	ID   string
	aead cipher.AEAD
}

func (k Key) String() string { return "payload key " + k.ID }

// KeyRing is the active key, which seals, and older keys, which only open
// what they sealed before a rotation.
type KeyRing struct {
	active *Key
	byID   map[string]*Key
}

// LoadKeyRing reads the active key file and the decrypt-only ones. Errors
// name the file and what is wrong with it, never its content.
func LoadKeyRing(activeFile string, oldFiles []string) (*KeyRing, error) {
	if activeFile == "" {
		return nil, errors.New("no active payload key file")
	}
	r := &KeyRing{byID: map[string]*Key{}}
	for i, f := range append([]string{activeFile}, oldFiles...) {
		k, err := ReadKeyFile(f)
		if err != nil {
			return nil, err
		}
		if prev, dup := r.byID[k.ID]; dup {
			return nil, fmt.Errorf("payload key file %s: key id %q is also %s's: ids must differ", f, k.ID, prev)
		}
		r.byID[k.ID] = k
		if i == 0 {
			r.active = k
		}
	}
	return r, nil
}

// ActiveID is the id of the key that seals new payloads.
func (r *KeyRing) ActiveID() string { return r.active.ID }

// key is the ring's key of id, or an error naming the ids it does hold.
func (r *KeyRing) key(id string) (*Key, error) {
	if k, ok := r.byID[id]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("payload codec: payload encrypted with key %q, which this key ring does not hold (keys: %s)", id, r.ids())
}

func (r *KeyRing) ids() string {
	ids := make([]string, 0, len(r.byID))
	for id := range r.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}

// ReadKeyFile reads one key file; it must be readable by its owner only.
func ReadKeyFile(path string) (*Key, error) {
	id, ok := strings.CutSuffix(filepath.Base(path), keyFileSuffix)
	if !ok || !validKeyID.MatchString(id) {
		return nil, fmt.Errorf("payload key file %s: name it ID.key, ID of letters, digits, '.', '_' or '-' (at most 64)", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("payload key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("payload key file %s: mode %v lets others read it: chmod 600", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("payload key file: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("payload key file %s: not base64 (want 32 random bytes, base64: `openssl rand -base64 32`)", path)
	}
	a, err := newAEAD(raw)
	if err != nil {
		return nil, fmt.Errorf("payload key file %s: %v", path, err)
	}
	return &Key{ID: id, aead: a}, nil
}

// WriteKeyFile writes a new random key to dir/ID.key (0600) and returns its
// path; an existing file is kept, never overwritten.
func WriteKeyFile(dir, id string) (string, error) {
	if !validKeyID.MatchString(id) {
		return "", fmt.Errorf("payload key id %q: letters, digits, '.', '_' or '-' (at most 64)", id)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, id+keyFileSuffix)
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return path, nil
	}
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, err
}
