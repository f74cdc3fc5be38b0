package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/foureyes/foureyes/internal/demokeys"
	"github.com/foureyes/foureyes/internal/headless"
)

// passkeyApprovals has carol and dave approve the prod gate on their
// approval pages with their passkeys, in headless Chromium with a virtual
// authenticator holding their demo credentials (the sample policy lists
// them). Where Chromium cannot be had, they sign with their SSH keys.
func (d *demo) passkeyApprovals(ctx context.Context, id string, who ...string) error {
	chromium, err := ensureChromium(d.s.out)
	if err != nil {
		logf(d.s.out, "demo: %v: %s sign with their SSH keys instead of passkeys", err, strings.Join(who, " and "))
		return d.sshApprovals(ctx, id, who...)
	}
	b, err := d.passkeyBrowser(ctx, chromium, who)
	if err != nil {
		return err
	}
	defer b.Close()
	for _, w := range who {
		if err := d.approveOnPage(ctx, b, id, w); err != nil {
			return err
		}
	}
	return nil
}

// sshApprovals: who approve the prod gate with their SSH keys.
func (d *demo) sshApprovals(ctx context.Context, id string, who ...string) error {
	for _, w := range who {
		if _, err := d.must(ctx, w, "decide", id, "--gate", "approval", "--approve", "--key", d.keyOf(w)); err != nil {
			return err
		}
	}
	return nil
}

// passkeyBrowser starts Chromium with one virtual authenticator holding
// each person's demo passkey.
func (d *demo) passkeyBrowser(ctx context.Context, chromium string, who []string) (*headless.Browser, error) {
	b, err := headless.Start(ctx, chromium)
	if err != nil {
		return nil, err
	}
	auth, err := b.AddAuthenticator(headless.PlatformPasskey())
	for _, w := range who {
		if err != nil {
			break
		}
		pk := demokeys.DemoPasskey(w)
		err = b.AddCredential(auth, headless.Credential{CredentialID: base64.StdEncoding.EncodeToString(pk.ID),
			RPID: "localhost", PrivateKey: pk.PKCS8()})
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("the demo's browser: %w", err)
	}
	return b, nil
}

// approveOnPage asks for who's link with `starter page`, opens it and
// presses Approve: the page has the passkey sign the statement.
func (d *demo) approveOnPage(ctx context.Context, b *headless.Browser, id, who string) error {
	out, err := d.must(ctx, who, "page", id, "--gate", "approval")
	if err != nil {
		return err
	}
	link := firstURL(string(out))
	if link == "" {
		return fmt.Errorf("starter page printed no link: %s", out)
	}
	if err := b.Open(link, 1100, 1250); err != nil {
		return err
	}
	if err := b.WaitText(ctx, 30*time.Second, "Your decision", "sha256:"); err != nil {
		return err
	}
	outcome, err := pressOnPage(ctx, b, "approve")
	if err != nil {
		return err
	}
	logf(d.s.out, "demo: %s approved on the approval page with a passkey (headless Chromium): %s", who, oneLine(outcome))
	if !strings.Contains(strings.ToLower(outcome), "accepted") {
		return fmt.Errorf("%s's passkey approval: the page says %q", who, outcome)
	}
	return nil
}

// pressOnPage presses a page's button once its script is ready and
// returns what the page says once the ceremony ended.
func pressOnPage(ctx context.Context, b *headless.Browser, button string) (string, error) {
	var ready, cls, text string
	for i := 0; i < 100 && ready != "1"; i++ {
		_ = b.Eval(`document.body.dataset.ready || ''`, &ready)
		time.Sleep(100 * time.Millisecond)
	}
	if err := b.Eval(`document.getElementById('outcome').className = ''; document.getElementById('`+button+`').click()`, nil); err != nil {
		return "", err
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(200 * time.Millisecond) {
		_ = b.Eval(`document.getElementById('outcome').className`, &cls)
		_ = b.Eval(`document.getElementById('outcome').textContent`, &text)
		if cls != "" {
			return text, nil
		}
	}
	return "", fmt.Errorf("the approval page never said how %s ended; it says %q", button, text)
}

func firstURL(s string) string {
	for _, f := range strings.Fields(s) {
		if strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://") {
			return f
		}
	}
	return ""
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
