package codec

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// A codec server decodes for people entitled to read payloads: the Web UI
// (codec.endpoint) and `temporal --codec-endpoint`. It implements
// Temporal's remote codec protocol (POST /encode and /decode, a JSON
// commonpb.Payloads both ways) behind the caller's own credential.

// maxBody bounds a request: a release's largest payloads are a few hundred
// KB (the pinned policy, signed bundles); a history page's worth is more.
const maxBody = 8 << 20

// SessionCookie carries a signed-in reader's session to the codec server
// from the Web UI (codec.includeCredentials): an opaque random id, never
// the reader's key.
const SessionCookie = "foureyes_codec_session"

// Readers maps the SHA-256 of each reader's credential to its identity.
type Readers map[[32]byte]string

// Add adds a reader whose credential hashes to hexSum.
func (r Readers) Add(identity, hexSum string) error {
	b, err := hex.DecodeString(hexSum)
	if err != nil || len(b) != 32 {
		return fmt.Errorf("reader %s: credential hash %q is not a hex SHA-256", identity, hexSum)
	}
	r[[32]byte(b)] = identity
	return nil
}

// who is the identity whose credential is key, compared in constant time.
func (r Readers) who(key string) (string, bool) {
	sum := sha256.Sum256([]byte(key))
	found := ""
	for h, id := range r {
		if subtle.ConstantTimeCompare(h[:], sum[:]) == 1 {
			found = id
		}
	}
	return found, found != ""
}

// ServerOptions configure NewServer.
type ServerOptions struct {
	Codec   *Codec
	Readers Readers
	// UIOrigin is the one origin CORS allows (the Web UI's, e.g.
	// http://localhost:8233); "" allows none.
	UIOrigin   string
	Log        *slog.Logger
	SessionTTL time.Duration // default 8h
}

// Server is the codec server's handler.
type Server struct {
	o        ServerOptions
	mu       sync.Mutex
	sessions map[string]session
}

type session struct {
	identity string
	expires  time.Time
}

// NewServer returns the codec server's handler.
func NewServer(o ServerOptions) *Server {
	if o.SessionTTL == 0 {
		o.SessionTTL = 8 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Server{o: o, sessions: map[string]session{}}
}

// Log is the server's logger.
func (s *Server) Log() *slog.Logger { return s.o.Log }

// ActiveKeyID is the id of the key /encode seals with.
func (s *Server) ActiveKeyID() string { return s.o.Codec.ActiveKeyID() }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) {
		return
	}
	switch r.URL.Path {
	case "/encode", "/decode":
		s.codec(w, r)
	case "/login":
		s.login(w, r)
	default:
		http.Error(w, fmt.Sprintf("no such path %q: POST /decode, POST /encode, /login", r.URL.Path), http.StatusNotFound)
	}
}

// cors answers preflights and sets the CORS headers for the UI's origin
// only; it returns false when the request has been answered. A request of
// another origin is refused outright (the browser would hide the answer
// anyway; refusing keeps another page from even causing a decode).
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "http://"+r.Host || origin == "https://"+r.Host {
		return true // the CLI, curl, or the server's own /login page
	}
	if origin != s.o.UIOrigin {
		http.Error(w, fmt.Sprintf("origin %q is not allowed (only the Web UI's)", origin), http.StatusForbidden)
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	if r.Method != http.MethodOptions {
		return true
	}
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return false
}

// codec authenticates the caller, then encodes or decodes its payloads.
func (s *Server) codec(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, r.URL.Path+" takes POST", http.StatusMethodNotAllowed)
		return
	}
	who, err := s.identity(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="foureyes codec"`)
		s.o.Log.Warn("codec request refused", "path", r.URL.Path, "reason", err.Error(), "remote", r.RemoteAddr)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, fmt.Sprintf("body: %v (at most %d bytes)", err, maxBody), http.StatusRequestEntityTooLarge)
		return
	}
	var in commonpb.Payloads
	if err := protojson.Unmarshal(body, &in); err != nil {
		http.Error(w, "body is not a JSON Payloads ({\"payloads\": [...]}): "+err.Error(), http.StatusBadRequest)
		return
	}
	out, err := s.apply(r.URL.Path, in.Payloads)
	attrs := []any{"identity", who, "namespace", r.Header.Get("X-Namespace"), "payloads", len(in.Payloads),
		"keys", keyIDs(in.Payloads), "remote", r.RemoteAddr}
	if err != nil {
		s.o.Log.Warn("codec "+r.URL.Path[1:]+" failed", append(attrs, "error", err.Error())...)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.o.Log.Info("payloads "+r.URL.Path[1:]+"d", attrs...) // "payloads decoded", "payloads encoded"
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (s *Server) apply(path string, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if path == "/encode" {
		return s.o.Codec.Encode(p)
	}
	return s.o.Codec.Decode(p)
}

// keyIDs are the distinct key ids of the encrypted payloads, for the log.
func keyIDs(ps []*commonpb.Payload) []string {
	var ids []string
	for _, p := range ps {
		if id := KeyID(p); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// identity is the reader the request authenticates: a bearer credential
// (the CLI's --codec-auth) or a session cookie (/login, for the Web UI).
func (s *Server) identity(r *http.Request) (string, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		key, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			return "", errors.New("Authorization: want \"Bearer <your API key>\"")
		}
		if who, ok := s.o.Readers.who(strings.TrimSpace(key)); ok {
			return who, nil
		}
		return "", errors.New("this credential may not read payloads (not an operator's or auditor's)")
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if ses, ok := s.sessions[c.Value]; ok && time.Now().Before(ses.expires) {
			return ses.identity, nil
		}
		delete(s.sessions, c.Value)
		return "", errors.New("session expired or unknown: sign in again at /login")
	}
	return "", errors.New("no credential: send Authorization: Bearer <your API key>, or sign in at /login")
}

// login shows a form (GET) and, given a reader's key (POST), starts a
// session in an HttpOnly cookie that the Web UI's calls carry.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, loginPage(""))
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		who, ok := s.o.Readers.who(strings.TrimSpace(r.PostFormValue("key")))
		if !ok {
			s.o.Log.Warn("codec sign-in refused", "remote", r.RemoteAddr)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, loginPage("This key may not read payloads (not an operator's or auditor's)."))
			return
		}
		id := s.newSession(who)
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, MaxAge: int(s.o.SessionTTL.Seconds())})
		s.o.Log.Info("codec sign-in", "identity", who, "remote", r.RemoteAddr)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<p>Signed in as %s: the Web UI decodes payloads for you now.</p>", html.EscapeString(who))
	default:
		http.Error(w, "/login takes GET or POST", http.StatusMethodNotAllowed)
	}
}

func (s *Server) newSession(who string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, v := range s.sessions { // forget expired ones
		if now.After(v.expires) {
			delete(s.sessions, k)
		}
	}
	s.sessions[id] = session{identity: who, expires: now.Add(s.o.SessionTTL)}
	return id
}

func loginPage(msg string) string {
	if msg != "" {
		msg = "<p><b>" + html.EscapeString(msg) + "</b></p>"
	}
	return `<!doctype html><title>foureyes codec server</title>` + msg +
		`<form method="post" action="/login"><label>Your API key (operator or auditor):
<input type="password" name="key" autofocus></label> <button type="submit">Sign in</button></form>`
}
