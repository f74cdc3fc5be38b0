// Command worker runs one foureyes role: `worker -role ROLE` (or FOUREYES_ROLE).
// Each role polls only its own task queue with its own identity and secrets.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sethvargo/go-envconfig"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	servePprof(os.Getenv(pprofEnv), os.Stderr)
	code := run(ctx, os.Args[1:], envconfig.OsLookuper(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
