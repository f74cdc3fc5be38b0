package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// StopGrace is how long Stop waits after SIGTERM before SIGKILL.
var StopGrace = 10 * time.Second

// Process is a child started by devstack, in its own process group, with
// stdout and stderr appended to LogFile.
type Process struct {
	Name     string
	LogFile  string
	Addr     string // host:port it serves, when known (the server's frontend)
	cmd      *exec.Cmd
	done     chan struct{}
	err      error
	logStart int64 // size of LogFile before this process wrote to it
}

// Role is one worker role: its name and its environment beyond PATH and HOME.
type Role struct {
	Name string
	Env  []string
}

// StartRole runs `bin -role NAME` with only r.Env plus PATH and HOME (never
// the parent's environment), logging to logDir/NAME.log. ctx bounds only the
// start; end the process with Stop or Kill.
func StartRole(ctx context.Context, bin string, r Role, logDir string) (*Process, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-role", r.Name)
	cmd.Env = append(BaseEnv(), r.Env...)
	return startProcess(r.Name, cmd, filepath.Join(logDir, r.Name+".log"))
}

// BaseEnv is the minimal environment every child gets: PATH and HOME.
func BaseEnv() []string {
	home := os.Getenv("HOME")
	if home == "" {
		home = "/"
	}
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	return []string{"PATH=" + path, "HOME=" + home}
}

func startProcess(name string, cmd *exec.Cmd, logFile string) (*Process, error) {
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "==== %s: %s\n", time.Now().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	offset, _ := f.Seek(0, io.SeekEnd)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group; SIGTERM if we die without stopping it.
	// (Kept: a Credential the caller set, e.g. PostgreSQL's own user.)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid, cmd.SysProcAttr.Pdeathsig = true, syscall.SIGTERM
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, LogFile: logFile, cmd: cmd, done: make(chan struct{}), logStart: offset}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id (and process group id).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the exit error once Done is closed (nil for exit code 0).
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process group, then SIGKILL after StopGrace, and
// waits for the exit.
func (p *Process) Stop() error {
	if p.Exited() {
		return nil
	}
	if err := p.signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(StopGrace):
		return p.Kill()
	}
}

// Kill sends SIGKILL to the process group and waits for the exit.
func (p *Process) Kill() error {
	if p.Exited() {
		return nil
	}
	if err := p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-p.done
	return nil
}

func (p *Process) signal(sig syscall.Signal) error {
	err := syscall.Kill(-p.Pid(), sig)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %s (pid %d): %w", p.Name, p.Pid(), err)
	}
	return nil
}

// LogTail returns up to the last n bytes this process wrote to its log.
func (p *Process) LogTail(n int64) string {
	f, err := os.Open(p.LogFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		f.Seek(max(p.logStart, st.Size()-n), io.SeekStart)
	}
	buf := make([]byte, n)
	k, _ := f.Read(buf)
	return strings.TrimSpace(string(buf[:k]))
}

// exitDescription says how an exited process ended.
func (p *Process) exitDescription() string {
	if p.err == nil {
		return "exited with code 0"
	}
	return p.err.Error()
}
