package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/foureyes/foureyes/temporal-server/internal/devserver"
)

// testPostgres is a PostgreSQL cluster of its own in a temporary folder, on
// a free port of 127.0.0.1, with the superuser "temporal" trusted (no
// password). initdb and postgres refuse to run as root: as root, they run as
// the system user "postgres" (Debian's package makes it).
type testPostgres struct {
	Addr string
	dir  string
	cmd  *exec.Cmd
}

// postgresBin is the folder of initdb and postgres: $FOUREYES_POSTGRES_BIN,
// else Debian's newest /usr/lib/postgresql/N/bin.
func postgresBin() (string, error) {
	if d := os.Getenv("FOUREYES_POSTGRES_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL: install Debian's postgresql package or set FOUREYES_POSTGRES_BIN")
}

func startTestPostgres(t *testing.T) *testPostgres {
	t.Helper()
	bin, err := postgresBin()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "foureyes-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cred := postgresCredential(t, dir)
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "temporal",
		"--auth=trust", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port, err := devserver.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	p := &testPostgres{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
	p.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(dir, "data"), "-p", strconv.Itoa(port),
		"-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300")
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	log, _ := os.Create(filepath.Join(dir, "postgres.log"))
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(p.stop)
	if err := waitPostgres(bin, port, 30*time.Second); err != nil {
		out, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
		t.Fatalf("postgres: %v\n%s", err, out)
	}
	return p
}

// postgresCredential: as root, the folder goes to user postgres and the
// commands run as it; otherwise as this user.
func postgresCredential(t *testing.T, dir string) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("running as root, PostgreSQL needs the system user postgres: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// stop: fast shutdown (SIGINT), then wait.
func (p *testPostgres) stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	_ = p.cmd.Wait()
}

// waitPostgres: pg_isready until PostgreSQL accepts connections (it
// listens before it does).
func waitPostgres(bin string, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		out, err := exec.Command(filepath.Join(bin, "pg_isready"), "-h", "127.0.0.1", "-p", strconv.Itoa(port)).CombinedOutput()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL on port %d not ready after %s: %s", port, timeout, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening after %s: %w", addr, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
