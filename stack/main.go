// Command stack runs foureyes locally without containers.
//
//	go run ./stack [up] [flags]   foureyes' Temporal server + the five roles + demo
//	go run ./stack test [args]    install test tools, then go test ./...
//	go run ./stack keys           signing keys and policy for docker-compose
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

func run(args []string, out io.Writer) int {
	cmd := "up"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "up":
		return runUp(args, out)
	case "test":
		return runTest(args, out)
	case "screenshots":
		return runScreenshots(args, out)
	case "bench":
		return runBench(args, out)
	case "keys":
		return runKeys(args, out)
	case "cluster":
		return runCluster(args, out)
	case "certs":
		return runCerts(args, out)
	case "help":
		fmt.Fprint(out, usage)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "stack: unknown command %q\n%s", cmd, usage)
		return 2
	}
}

const usage = `usage:
  go run ./stack [up] [--port 7233] [--ui-port 8233] [--gateway-port 8480] [--metrics-port 9464]
                      [--data DIR] [--bin DIR] [--demo=false] [--exit-after-demo]
  go run ./stack cluster [same flags] [--pg-port 5432]
                      the same on PostgreSQL (data/pg), four Temporal services and the UI, mTLS everywhere
  go run ./stack certs [--dir certs]    the cluster's CA and certificates (docker-compose mounts ./certs)
  go run ./stack test [go test args]
  go run ./stack screenshots [--out docs]   Temporal UI screenshots of a release at its approval gate
  go run ./stack bench [bench flags]    (go run ./bench -h lists them)
  go run ./stack keys [--dir keys] [--policy deployments/policy.yaml]
                      signing keys and keys/policy.yaml for docker-compose
`

// logf prints one stack message.
func logf(out io.Writer, format string, args ...any) {
	fmt.Fprintf(out, "[stack] "+format+"\n", args...)
}
