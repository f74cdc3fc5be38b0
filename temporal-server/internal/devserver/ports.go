package devserver

import (
	"fmt"
	"net"
	"strconv"
)

// FreePort returns a port free on host now, kept from the kernel's next
// ephemeral choices for a while (TIME_WAIT of a connection closed from the
// listening side), as the CLI's dev server does.
func FreePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("no free port on %s: %w", host, err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	c, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("no free port on %s: %w", host, err)
	}
	defer c.Close()
	s, err := l.Accept()
	if err != nil {
		return 0, fmt.Errorf("no free port on %s: %w", host, err)
	}
	s.Close()
	return port, nil
}

// CheckPortFree fails when host:port cannot be listened on.
func CheckPortFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}
