// Package headless drives a headless Chromium over the DevTools protocol
// (one page: open, wait for rendered text, screenshot), for the stack's
// screenshots of the Temporal UI.
package headless

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// chromiumFlags run Debian's chromium headless, isolated and quiet.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"}

// Browser is a headless chromium driven over the DevTools protocol: one page.
type Browser struct {
	cmd     *exec.Cmd
	profile string
	conn    *websocket.Conn
	seq     int
}

var devtoolsLine = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// Start starts chromium with a new profile and attaches to a page.
func Start(ctx context.Context, bin string) (*Browser, error) {
	profile, err := os.MkdirTemp("", "foureyes-chromium-")
	if err != nil {
		return nil, err
	}
	b := &Browser{profile: profile}
	b.cmd = exec.CommandContext(ctx, bin, append([]string{"--user-data-dir=" + profile}, chromiumFlags...)...)
	stderr, err := b.cmd.StderrPipe()
	if err == nil {
		err = b.cmd.Start()
	}
	if err != nil {
		os.RemoveAll(profile)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	if err := b.attach(ctx, stderr); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// attach reads the DevTools address from chromium's stderr and connects to
// its first page.
func (b *Browser) attach(ctx context.Context, stderr io.Reader) error {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var ws string
	select {
	case ws = <-found:
	case <-time.After(30 * time.Second):
		return errors.New("chromium did not print its DevTools address in 30s")
	}
	page, err := firstPage(ctx, ws)
	if err != nil {
		return err
	}
	b.conn, _, err = websocket.DefaultDialer.DialContext(ctx, page, nil)
	return err
}

// firstPage asks the DevTools HTTP endpoint for the page's websocket URL.
func firstPage(ctx context.Context, browserWS string) (string, error) {
	u, err := url.Parse(browserWS)
	if err != nil {
		return "", err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+u.Host+"/json/list", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var targets []struct{ Type, WebSocketDebuggerURL string }
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		return "", err
	}
	for _, t := range targets {
		if t.Type == "page" {
			return t.WebSocketDebuggerURL, nil
		}
	}
	return "", errors.New("chromium has no page")
}

// call sends one DevTools command and decodes its result into out.
func (b *Browser) call(method string, params, out any) error {
	b.seq++
	if err := b.conn.WriteJSON(map[string]any{"id": b.seq, "method": method, "params": params}); err != nil {
		return err
	}
	_ = b.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var msg struct {
			ID     int
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		if err := b.conn.ReadJSON(&msg); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		switch {
		case msg.ID != b.seq:
			continue // an event
		case msg.Error != nil:
			return fmt.Errorf("%s: %s", method, msg.Error.Message)
		case out != nil:
			return json.Unmarshal(msg.Result, out)
		}
		return nil
	}
}

// open sets the viewport and navigates.
func (b *Browser) Open(pageURL string, width, height int) error {
	if err := b.call("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		return err
	}
	return b.call("Page.navigate", map[string]any{"url": pageURL}, nil)
}

// pageText is the rendered text of the page and of its same-origin frames
// (the UI renders markdown in frames).
const pageText = `[document, ...Array.from(document.querySelectorAll('iframe')).map(f => f.contentDocument)]
	.filter(d => d && d.body).map(d => d.body.innerText).join('\n')`

// text is the page's rendered text.
func (b *Browser) Text() (string, error) {
	var r struct{ Result struct{ Value string } }
	err := b.call("Runtime.evaluate", map[string]any{"expression": pageText, "returnByValue": true}, &r)
	return r.Result.Value, err
}

// waitText polls the rendered text until it holds every want, or fails
// naming what is missing.
func (b *Browser) WaitText(ctx context.Context, timeout time.Duration, want ...string) error {
	deadline := time.Now().Add(timeout)
	for {
		text, err := b.Text()
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		switch {
		case err == nil && missing == "":
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("after %s the page does not show %q (error %v); it shows:\n%.1500s", timeout, missing, err, text)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// screenshot saves the viewport as a PNG.
func (b *Browser) Screenshot(path string) error {
	var r struct{ Data string }
	if err := b.call("Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

func (b *Browser) Close() {
	if b.conn != nil {
		b.conn.Close()
	}
	if b.cmd.Process != nil {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
	}
	os.RemoveAll(b.profile)
}
