package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/foureyes/foureyes/internal/procstat"
)

// Postgres is the cluster's own PostgreSQL: a database cluster in Dir
// (initdb'd on first use, reused later) served on 127.0.0.1:Port, user
// "temporal" with a password (scram-sha-256) kept in PasswordFile.
// initdb and postgres refuse to run as root: as root they run as the system
// user "postgres" (Debian's postgresql package makes it), which owns Dir.
type Postgres struct {
	Dir          string // the data directory (data/pg)
	PasswordFile string
	Port         int
	LogFile      string
	Proc         *Process
}

// PostgresUser is the database user of the Temporal server.
const PostgresUser = "temporal"

// PostgresBin finds initdb and postgres: $FOUREYES_POSTGRES_BIN, else
// Debian's newest /usr/lib/postgresql/N/bin.
func PostgresBin() (string, error) {
	if d := os.Getenv("FOUREYES_POSTGRES_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "postgres")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("no PostgreSQL server: install Debian's postgresql package (apt-get install postgresql) or set FOUREYES_POSTGRES_BIN")
}

// EnsurePostgresInstalled installs Debian's postgresql with apt-get when no
// server is found (as root only).
func EnsurePostgresInstalled(out func(string)) (string, error) {
	if bin, err := PostgresBin(); err == nil {
		return bin, nil
	}
	if os.Geteuid() != 0 {
		return PostgresBin()
	}
	out("installing Debian's postgresql (apt-get)")
	cmd := exec.Command("sh", "-c", "apt-get update && apt-get install -y --no-install-recommends postgresql")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get install postgresql: %v\n%s", err, b)
	}
	return PostgresBin()
}

// Addr is where the Temporal services reach it.
func (p *Postgres) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)) }

// Start initdb's Dir when it holds no cluster, starts postgres and waits
// until it accepts connections.
func (p *Postgres) Start(ctx context.Context) error {
	bin, err := PostgresBin()
	if err != nil {
		return err
	}
	cred, err := postgresCredential()
	if err != nil {
		return err
	}
	if err := reachable(p.Dir, cred); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(p.Dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := p.initdb(bin, cred); err != nil {
			return err
		}
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", p.Dir, "-p", strconv.Itoa(p.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=400")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if p.Proc, err = startProcess("postgres", cmd, p.LogFile); err != nil {
		return err
	}
	return p.wait(ctx, bin, 60*time.Second)
}

// initdb makes the database cluster: superuser temporal, its password from
// PasswordFile (made on first use), password authentication on TCP.
func (p *Postgres) initdb(bin string, cred *syscall.Credential) error {
	pw, err := ensureSecret(p.PasswordFile)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return err
	}
	// initdb reads the password from a file it can open as its user.
	pwCopy := p.Dir + ".pwfile"
	if err := os.WriteFile(pwCopy, []byte(pw+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwCopy)
	if cred != nil {
		for _, f := range []string{p.Dir, pwCopy} {
			if err := os.Chown(f, int(cred.Uid), int(cred.Gid)); err != nil {
				return err
			}
		}
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", p.Dir, "-U", PostgresUser, "--pwfile", pwCopy,
		"--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--locale=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %v\n%s", p.Dir, err, out)
	}
	return nil
}

// wait runs pg_isready until it answers (postgres listens before it accepts).
func (p *Postgres) wait(ctx context.Context, bin string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		out, err := exec.CommandContext(ctx, filepath.Join(bin, "pg_isready"), "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port)).CombinedOutput()
		if err == nil {
			return nil
		}
		select {
		case <-p.Proc.Done():
			return fmt.Errorf("postgres exited (%s; log %s):\n%s", p.Proc.exitDescription(), p.LogFile, p.Proc.LogTail(2000))
		case <-ctx.Done():
			return fmt.Errorf("PostgreSQL on %s not ready after %s: %s (log %s)", p.Addr(), timeout, strings.TrimSpace(string(out)), p.LogFile)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// reachable fails, naming the folder, when user postgres (cred) could not
// pass through one of dir's parents (e.g. a test's 0700 temporary folder).
func reachable(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("PostgreSQL runs as user postgres, which cannot pass through %s (mode %s): chmod o+x it or put the data elsewhere", d, st.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// postgresCredential: nil (this user) unless root, then user postgres.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL refuses to run as root and there is no user postgres to run it as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// ensureSecret returns the secret in path, writing a new random one (0600)
// if there is none.
func ensureSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	s := base64.RawURLEncoding.EncodeToString(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return s, os.WriteFile(path, []byte(s+"\n"), 0o600)
}

// Stop is PostgreSQL's fast shutdown (SIGINT: sessions ended, a clean
// checkpoint), then Crash if it takes longer than a minute.
func (p *Postgres) Stop() error {
	if p.Proc == nil || p.Proc.Exited() {
		return nil
	}
	if err := p.Proc.signal(syscall.SIGINT); err != nil {
		return err
	}
	select {
	case <-p.Proc.Done():
		return nil
	case <-time.After(time.Minute):
		return p.Crash()
	}
}

// Crash SIGKILLs the postmaster and every backend, as a machine or OOM
// crash would. The backends are not in the postmaster's process group
// (each is made a session leader), and while one lives a new postmaster
// refuses the old shared memory: they are found by parent and killed too.
// The postmaster is stopped (SIGSTOP) before its children are listed: a
// backend it forked after the list was taken outlived the crash (an
// orphan in "startup", seen under load in issue 27's trail stress), and
// every later start failed with "pre-existing shared memory block is still
// in use".
func (p *Postgres) Crash() error {
	if p.Proc == nil || p.Proc.Exited() {
		return nil
	}
	_ = syscall.Kill(p.Proc.Pid(), syscall.SIGSTOP)
	children := procstat.Children(p.Proc.Pid())
	if err := p.Proc.Kill(); err != nil {
		return err
	}
	for _, pid := range children {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range children {
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}
