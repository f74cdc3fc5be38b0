package codec_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/foureyes/foureyes/codec"
)

const uiOrigin = "http://localhost:8233"

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func hexSum(key string) string { s := sha256.Sum256([]byte(key)); return hex.EncodeToString(s[:]) }

// codecServer is a real HTTP codec server whose reader "operator" holds
// the key "operator-key".
func codecServer(t *testing.T) (*httptest.Server, *codec.Codec, *syncBuf) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	readers := codec.Readers{}
	require.NoError(t, readers.Add("operator", hexSum("operator-key")))
	require.ErrorContains(t, readers.Add("x", "abc"), `reader x: credential hash "abc" is not a hex SHA-256`)
	logs := &syncBuf{}
	srv := httptest.NewServer(codec.NewServer(codec.ServerOptions{Codec: c, Readers: readers, UIOrigin: uiOrigin,
		Log: slog.New(slog.NewTextHandler(logs, nil))}))
	t.Cleanup(srv.Close)
	return srv, c, logs
}

func post(t *testing.T, url string, body []byte, hdr map[string]string) (int, string) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func encrypted(t *testing.T, c *codec.Codec, v any) []byte {
	p, err := c.DataConverter().ToPayload(v)
	require.NoError(t, err)
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)
	return b
}

func TestCodecServerDecodesForReadersOnlyAndLogsEachDecode(t *testing.T) {
	srv, c, logs := codecServer(t)
	body := encrypted(t, c, "Erin Example <erin@example.com>")

	code, out := post(t, srv.URL+"/decode", body, map[string]string{"Authorization": "Bearer operator-key", "X-Namespace": "default"})
	require.Equal(t, http.StatusOK, code, out)
	var got commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(out), &got))
	require.Equal(t, `"Erin Example \u003cerin@example.com\u003e"`, string(got.Payloads[0].Data))
	require.Contains(t, logs.String(), `msg="payloads decoded" identity=operator namespace=default payloads=1 keys=[payload-1]`)
	require.NotContains(t, logs.String(), "erin@example.com", "the log names who decoded what, never the content")

	for _, tt := range []struct {
		auth, want string
	}{
		{"", "no credential: send Authorization: Bearer <your API key>, or sign in at /login"},
		{"Bearer release-manager-key", "this credential may not read payloads"},
		{"Basic b3BlcmF0b3I6", `Authorization: want "Bearer <your API key>"`},
	} {
		code, out := post(t, srv.URL+"/decode", body, map[string]string{"Authorization": tt.auth})
		require.Equal(t, http.StatusUnauthorized, code)
		require.Contains(t, out, tt.want)
		require.NotContains(t, out, "erin")
	}
	require.Contains(t, logs.String(), `msg="codec request refused" path=/decode reason="this credential may not read payloads`)

	code, out = post(t, srv.URL+"/decode", []byte(`{"payloads": 3}`), map[string]string{"Authorization": "Bearer operator-key"})
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out, "body is not a JSON Payloads")
	code, out = post(t, srv.URL+"/nope", body, map[string]string{"Authorization": "Bearer operator-key"})
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, out, `no such path "/nope"`)
}

func TestCodecServerEncodeRoundTrips(t *testing.T) {
	srv, c, _ := codecServer(t)
	plain, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{{
		Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}}})
	require.NoError(t, err)
	code, out := post(t, srv.URL+"/encode", plain, map[string]string{"Authorization": "Bearer operator-key"})
	require.Equal(t, http.StatusOK, code, out)
	var enc commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(out), &enc))
	require.Equal(t, codec.EncodingSealed, string(enc.Payloads[0].Metadata["encoding"]))
	dec, err := c.Decode(enc.Payloads)
	require.NoError(t, err)
	require.Equal(t, `"x"`, string(dec[0].Data))
}

func TestCodecServerCORSOnlyForTheUI(t *testing.T) {
	srv, c, _ := codecServer(t)
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := pre(uiOrigin)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace")

	resp = pre("http://evil.example")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	code, out := post(t, srv.URL+"/decode", encrypted(t, c, "x"),
		map[string]string{"Origin": "http://evil.example", "Authorization": "Bearer operator-key"})
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, out, `origin "http://evil.example" is not allowed`)
}

func TestCodecServerSessionForTheWebUI(t *testing.T) {
	srv, c, logs := codecServer(t)
	noRedirect := &http.Client{}
	resp, err := noRedirect.PostForm(srv.URL+"/login", url.Values{"key": {"wrong"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Empty(t, resp.Cookies())

	resp, err = noRedirect.PostForm(srv.URL+"/login", url.Values{"key": {"operator-key"}})
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.Contains(t, string(b), "Signed in as operator")
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == codec.SessionCookie {
			cookie = ck
		}
	}
	require.NotNil(t, cookie)
	require.True(t, cookie.HttpOnly)
	require.NotContains(t, cookie.Value, "operator-key")
	require.Contains(t, logs.String(), `msg="codec sign-in" identity=operator`)

	code, out := post(t, srv.URL+"/decode", encrypted(t, c, "with a session"),
		map[string]string{"Origin": uiOrigin, "Cookie": codec.SessionCookie + "=" + cookie.Value})
	require.Equal(t, http.StatusOK, code, out)
	require.True(t, strings.Contains(out, "IndpdGggYSBzZXNzaW9uIg=="), out) // base64 of `"with a session"`
	code, out = post(t, srv.URL+"/decode", encrypted(t, c, "x"),
		map[string]string{"Origin": uiOrigin, "Cookie": codec.SessionCookie + "=forged"})
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, out, "session expired or unknown")
}

// The Web UI and the CLI still read payloads of the first form
// (binary/encrypted), and the log names their key.
func TestCodecServerDecodesTheFirstForm(t *testing.T) {
	c, plain, sealed := legacyRing(t)
	readers := codec.Readers{}
	require.NoError(t, readers.Add("operator", hexSum("operator-key")))
	logs := &syncBuf{}
	srv := httptest.NewServer(codec.NewServer(codec.ServerOptions{Codec: c, Readers: readers,
		Log: slog.New(slog.NewTextHandler(logs, nil))}))
	t.Cleanup(srv.Close)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	require.NoError(t, err)
	code, out := post(t, srv.URL+"/decode", body, map[string]string{"Authorization": "Bearer operator-key"})
	require.Equal(t, http.StatusOK, code, out)
	var got commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(out), &got))
	require.Len(t, got.Payloads, len(plain))
	for i := range plain {
		require.True(t, proto.Equal(plain[i], got.Payloads[i]), "payload %d", i)
	}
	require.Contains(t, logs.String(), `msg="payloads decoded" identity=operator namespace="" payloads=5 keys=[payload-legacy]`)
}
