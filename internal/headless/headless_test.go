package headless

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// page renders its text late and partly in a frame, like the Temporal UI.
const page = `<html><body><script>
setTimeout(() => {
  document.body.insertAdjacentHTML('beforeend', '<p>release-x</p>');
  const f = document.createElement('iframe');
  f.srcdoc = '<ul><li>Awaiting: dave</li></ul>';
  document.body.appendChild(f);
}, 300);
</script></body></html>`

func TestBrowserWaitsForRenderedTextAndFrames(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil || testing.Short() {
		t.Skip("needs Debian's chromium (go run ./stack screenshots installs it)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(page))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Start(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Open(srv.URL, 800, 600); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitText(ctx, 20*time.Second, "release-x", "Awaiting: dave"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitText(ctx, time.Second, "not on the page"); err == nil {
		t.Fatal("waitText found text that is not there")
	}
	png := filepath.Join(t.TempDir(), "p.png")
	if err := b.Screenshot(png); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(png)
	if !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Fatalf("%s is not a PNG", png)
	}
}
