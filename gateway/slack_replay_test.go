package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/slackrec"
)

// mixedCase upper-cases every other letter of the hex after "v0=" (slack-go
// needs the prefix as is).
func mixedCase(sig string) string {
	b := []byte(sig)
	for i := len("v0="); i < len(b); i += 2 {
		b[i] = strings.ToUpper(string(b[i]))[0]
	}
	return string(b)
}

// Attack: a captured signed click replayed with its signature's hex in
// another case is the same request, so it is refused as a replay by the
// signature cache, not merely deduplicated by the click id.
func TestSlackReplayWithRecasedSignatureIs401(t *testing.T) {
	f := newSlackFixture(t, &fakeClient{})
	body := click(userBob, api.SlackActionApprove).Body()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := slackrec.Signature(slackSecret, ts, body)
	require.True(t, strings.HasPrefix(sig, "v0="), sig)
	spellings := []string{sig, "v0=" + strings.ToUpper(sig[len("v0="):]), mixedCase(sig)}
	require.NotEqual(t, sig, spellings[1], "upper-cased spelling differs from the captured one")
	require.NotEqual(t, sig, spellings[2], "mixed-case spelling differs from the captured one")
	require.NotEqual(t, spellings[1], spellings[2])
	for i, s := range spellings {
		status, _ := f.post(t, "", body, func(h http.Header) {
			h.Set("X-Slack-Request-Timestamp", ts)
			h.Set("X-Slack-Signature", s)
		})
		want := http.StatusUnauthorized
		if i == 0 {
			want = http.StatusOK
		}
		require.Equal(t, want, status, "spelling %d: %s", i, s)
	}
	assert.Equal(t, 2, strings.Count(f.logs.String(), "replayed request"), f.logs.String())
	assert.NotContains(t, f.logs.String(), "slack click already taken", "the replay check, not the click id, refuses it")
	assert.Len(t, f.signals(), 1, "the click counts once")
}

// A malformed X-Slack-Signature is refused, naming what is wrong with it.
func TestSlackMalformedSignatureNamed(t *testing.T) {
	body := click(userBob, api.SlackActionApprove).Body()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	good := slackrec.Signature(slackSecret, ts, body)
	cases := []struct{ name, sig, log string }{
		{"no v0 prefix", "sha256=" + good[len("v0="):], `does not start with \"v0=\"`},
		{"upper-case prefix", "V0=" + good[len("v0="):], `does not start with \"v0=\"`},
		{"not hex", "v0=" + strings.Repeat("zz", 32), "X-Slack-Signature header is not hex"},
		{"odd length", good[:len(good)-1], "X-Slack-Signature header is not hex"},
		{"too short", good[:len(good)-2], "X-Slack-Signature header has 31 bytes, want 32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newSlackFixture(t, &fakeClient{})
			status, _ := f.post(t, "", body, func(h http.Header) {
				h.Set("X-Slack-Request-Timestamp", ts)
				h.Set("X-Slack-Signature", c.sig)
			})
			assert.Equal(t, http.StatusUnauthorized, status)
			assert.Contains(t, f.logs.String(), "slack interaction refused")
			assert.Contains(t, f.logs.String(), c.log)
			assert.Empty(t, f.signals(), "no signal")
		})
	}
}
