package devstack

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// CodecURL is the codec server's base URL ("" before StartCodecServer).
// It is on localhost like the Web UI, so that the browser sends the
// reader's session cookie with the UI's calls (same site).
func (l *Local) CodecURL() string {
	if l.Codec == nil {
		return ""
	}
	return "http://localhost:" + strconv.Itoa(l.CodecPort)
}

// StartCodecServer starts the codec server (codecserver) with the stack's
// payload keys, readers the server's operators, CORS for the Web UI only.
func (l *Local) StartCodecServer(ctx context.Context) (*Process, error) {
	if l.CodecPort == 0 {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		l.CodecPort = port
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.CodecPort))
	env := append(BaseEnv(), payloadEnv(l.Credentials().payloadKeys())...)
	env = append(env, "FOUREYES_CODEC_READERS_FILE="+l.ServerConfigFile(), "FOUREYES_CODEC_LISTEN="+addr,
		"FOUREYES_CODEC_UI_ORIGIN=http://localhost:"+strconv.Itoa(l.UIPort))
	cmd := exec.CommandContext(ctx, filepath.Join(l.BinDir, "codecserver"))
	cmd.Env = env
	p, err := startProcess("codecserver", cmd, filepath.Join(l.LogDir(), "codecserver.log"))
	if err != nil {
		return nil, err
	}
	p.Addr = addr
	if err := waitTCP(p, addr, 30*time.Second); err != nil {
		_ = p.Stop()
		return nil, err
	}
	l.mu.Lock()
	l.Codec = p
	l.mu.Unlock()
	return p, nil
}

// waitTCP waits until addr accepts connections or p exits.
func waitTCP(p *Process, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited before listening (%s):\n%s", p.Name, p.LogFile, p.LogTail(1500))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on %s after %s", p.Name, addr, timeout)
		}
	}
}
