package gateway

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/attest"
)

// A retried decision is the same Update: it must carry the same bytes, or
// history may hold another request than the one the worker ran (issue 27).
// Before requests.go each retry was signed anew (its own time): this test
// failed with two different envelopes.
func TestRetriedDecisionSendsTheSameEnvelope(t *testing.T) {
	fake := &fakeClient{binding: signedBinding()}
	f := newSignedFixture(t, fake, nil)
	for range 2 {
		status, got, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
		require.Equal(t, 200, status, "%v", got)
		time.Sleep(2 * time.Millisecond) // a new signature would carry another time
	}
	require.Len(t, fake.updates, 2)
	assert.Equal(t, fake.updates[0].UpdateID, fake.updates[1].UpdateID)
	assert.Equal(t, string(envelopeOf(t, fake.updates[0])), string(envelopeOf(t, fake.updates[1])),
		"two deliveries of one Update carry different requests")

	// Another request (another verdict, or another request id) is signed anew.
	status, _, _ := f.post(t, "/v1/decisions", tokenAlice, strings.Replace(goodBody, `"approve"`, `"reject"`, 1))
	require.Equal(t, 200, status)
	status, _, _ = f.post(t, "/v1/decisions", tokenAlice, strings.Replace(goodBody, `"r-1"`, `"r-2"`, 1))
	require.Equal(t, 200, status)
	require.Len(t, fake.updates, 4)
	for _, u := range fake.updates[2:] {
		assert.NotEqual(t, string(envelopeOf(t, fake.updates[0])), string(envelopeOf(t, u)))
	}
}

func TestRetriedCancelSendsTheSameEnvelope(t *testing.T) {
	fake := &fakeClient{binding: signedBinding()}
	f := newSignedFixture(t, fake, nil)
	body := `{"release_id":"` + releaseID + `","reason":"r","request_id":"c-1"}`
	for range 2 {
		f.post(t, "/v1/cancels", tokenAlice, body)
		time.Sleep(2 * time.Millisecond)
	}
	require.Len(t, fake.updates, 2)
	assert.Equal(t, string(envelopeOf(t, fake.updates[0])), string(envelopeOf(t, fake.updates[1])))
}

func TestSignedRequestsBounded(t *testing.T) {
	s := newSignedRequests()
	now := time.Unix(1e9, 0)
	s.now = func() time.Time { return now }
	signs := 0
	sign := func() (attest.Envelope, error) { signs++; return attest.Envelope(fmt.Sprint(signs)), nil }
	for i := range maxRequests + 10 {
		_, err := s.once(string(rune(i)), sign)
		require.NoError(t, err)
	}
	assert.Len(t, s.byKey, maxRequests)
	assert.Len(t, s.order, maxRequests)
	env, _ := s.once(string(rune(maxRequests+9)), sign)
	assert.Equal(t, attest.Envelope(fmt.Sprint(maxRequests+10)), env, "a kept request is not signed again")
	assert.Equal(t, maxRequests+10, signs)

	now = now.Add(requestTTL)
	_, _ = s.once("late", sign)
	assert.Len(t, s.byKey, 1, "requests older than the TTL are dropped")

	_, err := s.once("fails", func() (attest.Envelope, error) { return nil, errors.New("no key") })
	assert.Error(t, err)
	assert.NotContains(t, s.byKey, "fails", "a failed signature is not kept")
}
