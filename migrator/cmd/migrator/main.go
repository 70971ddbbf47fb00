// Command migrator applies the Carthub schema migrations to PostgreSQL. Each subcommand lives in
// its own file and returns an error; only main prints it and picks the exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/carthub/carthub-db/migrator/internal/awsdb"
	"github.com/carthub/carthub-db/migrator/internal/config"
	"github.com/carthub/carthub-db/migrator/internal/dbconn"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/preflight"
	"github.com/carthub/carthub-db/migrator/internal/redact"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes. They are part of the interface (the Kubernetes Job's podFailurePolicy and the
// pipeline read them): never renumber.
const (
	exitOK          = 0
	exitFailed      = 1   // a migration (or seed) failed
	exitUsage       = 2   // bad flags, environment or migration files; a transaction-mode pooler in the way
	exitConnect     = 3   // cannot connect, the connection was lost, or the server is a read-only standby: transient, the Job retries
	exitLock        = 4   // migration lock not acquired within --lock-wait
	exitDrift       = 5   // history drift, unadoptable tables, or verify found differences
	exitSnapshot    = 6   // the pre-migration RDS snapshot could not be made; nothing was applied
	exitPending     = 7   // status --exit-code: migrations are pending
	exitLint        = 8   // lint: a rule failed that no allow directive covers
	exitRefused     = 9   // pre-flight: live rows break a rule a pending file adds (or a count timed out); nothing changed
	exitBlocked     = 10  // pre-flight: sessions idle in a transaction hold what the pending files need; nothing changed
	exitInterrupted = 130 // SIGINT
	exitTerminated  = 143 // SIGTERM
)

// usageError is a command-line mistake (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// pendingError signals pending migrations for status --exit-code (exit 7).
type pendingError struct{ n int }

func (e *pendingError) Error() string { return fmt.Sprintf("%d migration(s) pending", e.n) }

// signalError is the cause of a context cancelled by SIGINT or SIGTERM.
type signalError struct{ sig os.Signal }

func (e *signalError) Error() string { return "interrupted by " + e.sig.String() }

func main() {
	// A signal cancels the root context: the running statement is cancelled on the server, its
	// transaction rolls back, and the lock is released on the way out.
	ctx, stop := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() { stop(&signalError{<-sigs}) }()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run executes one command and returns the exit code. All output goes through the redactor, so no
// secret reaches the terminal, the logs or the termination message.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	a := &app{getenv: getenv, stdout: stdout, stderr: stderr, redactor: &redact.Redactor{}}
	err := a.dispatch(ctx, args)
	if err == nil {
		if a.summary != "" {
			writeTerminationLog(getenv, exitOK, a.summary)
		}
		a.emitMetrics(exitOK)
		return exitOK
	}
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if ctx.Err() == nil && lostMidway(err) {
		err = &lostMidwayError{err}
	}
	code := exitCode(ctx, err)
	msg := a.redactor.String(err.Error())
	if cause := context.Cause(ctx); cause != nil {
		msg = cause.Error() + ": " + msg
	}
	fmt.Fprintf(stderr, "migrator: %s\n", msg)
	writeTerminationLog(getenv, code, msg)
	a.emitMetrics(code)
	return code
}

func exitCode(ctx context.Context, err error) int {
	var (
		usage    *usageError
		cfg      *config.Error
		conn     *dbconn.Error
		lost     *dbconn.LostError
		lock     *migrate.LockError
		pooler   *migrate.PoolerError
		owner    *migrate.OwnershipError
		drift    *migrate.DriftError
		adopt    *migrate.AdoptError
		mismatch *schema.MismatchError
		pending  *pendingError
		unsafe   *lintFailedError
		awsErr   *awsdb.Error
		refused  *preflight.RefusedError
		blocked  *preflight.BlockedError
		midway   *lostMidwayError
	)
	var sig *signalError
	switch {
	case errors.As(context.Cause(ctx), &sig):
		if sig.sig == syscall.SIGTERM {
			return exitTerminated
		}
		return exitInterrupted
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &usage), errors.As(err, &cfg), errors.Is(err, errLoad), errors.As(err, &pooler), errors.As(err, &owner):
		return exitUsage
	case errors.As(err, &conn), errors.As(err, &lost), errors.As(err, &midway):
		return exitConnect
	case errors.As(err, &lock):
		return exitLock
	case errors.As(err, &drift), errors.As(err, &adopt), errors.As(err, &mismatch):
		return exitDrift
	case errors.As(err, &pending):
		return exitPending
	case errors.As(err, &unsafe):
		return exitLint
	case errors.As(err, &refused):
		return exitRefused
	case errors.As(err, &blocked):
		return exitBlocked
	case errors.As(err, &awsErr):
		switch awsErr.Kind {
		case awsdb.KindConfig:
			return exitUsage
		case awsdb.KindUnavailable:
			return exitConnect
		case awsdb.KindSnapshot:
			return exitSnapshot
		}
	}
	return exitFailed
}

// lostMidwayError is a connection lost in the middle of a command that up and down's
// *dbconn.LostError does not describe (status, verify, plan, ...): transient, exit 3.
type lostMidwayError struct{ err error }

func (e *lostMidwayError) Error() string {
	return "the connection to the database was lost (a failover, a restart, the network): run the command again: " + e.err.Error()
}

func (e *lostMidwayError) Unwrap() error { return e.err }

// lostMidway: err is a connection lost after it was made, not yet typed as such (a connection
// that could not be made is a *dbconn.Error, with its own advice).
func lostMidway(err error) bool {
	var (
		lost *dbconn.LostError
		conn *dbconn.Error
	)
	return !errors.As(err, &lost) && !errors.As(err, &conn) && dbconn.Lost(err)
}

// writeTerminationLog leaves a one-line summary where Kubernetes shows it in the pod status. It
// only writes to a file that exists: on a laptop there is none, and root must not create one.
func writeTerminationLog(getenv func(string) string, code int, msg string) {
	path := getenv("MIGRATOR_TERMINATION_LOG")
	if path == "" {
		path = "/dev/termination-log"
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return
	}
	defer f.Close()
	line, _, _ := strings.Cut(msg, "\n")
	fmt.Fprintf(f, "exit %d: %s\n", code, line)
}
