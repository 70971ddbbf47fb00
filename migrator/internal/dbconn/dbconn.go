// Package dbconn opens the migrator's one connection: it retries with exponential backoff and
// jitter until a deadline (a Job often starts before the database or its network is ready),
// and turns failures into messages that say what to check.
package dbconn

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/carthub/carthub-db/migrator/internal/config"
)

// Error is a connection that could not be made; the CLI exits with code 3.
type Error struct {
	Target string // user@host:port/db
	Reason string // what went wrong and what to check
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("cannot connect to %s: %s", e.Target, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// Options tune Connect.
type Options struct {
	Timeout  time.Duration     // total time to keep trying (--connect-timeout)
	Settings map[string]string // session settings sent at startup, e.g. lock_timeout
	Logger   *slog.Logger
	// Password, when set, makes the password for each attempt (an IAM token lives 15 minutes).
	Password func(context.Context) (string, error)
	// Writable refuses a server that is not a writable primary (a hot standby the endpoint still
	// points at during a failover) and keeps trying until Timeout: up and down write.
	Writable bool
}

// Connect opens a connection to t, retrying transient failures until opts.Timeout has passed.
// Authentication failures, a missing database and TLS verification failures are not retried:
// waiting will not fix them.
func Connect(ctx context.Context, t *config.Target, opts Options) (*pgx.Conn, error) {
	cfg := t.Config.Copy()
	for k, v := range opts.Settings {
		cfg.RuntimeParams[k] = v
	}
	// On cancellation ask the server to cancel the running statement (so its transaction rolls
	// back and its locks go at once) rather than only dropping the socket, which would leave a
	// long statement running on the server until it next writes to us.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, CancelRequestDelay: 0, DeadlineDelay: 5 * time.Second}
	}
	// Keepalives and a user timeout: a peer that dies silently is a lost connection in seconds.
	// Every connection copied from this one's config (the pre-flight's, the wait reporter's) has them.
	cfg.DialFunc = Dialer().DialContext
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	deadline := time.Now().Add(opts.Timeout)
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		remaining := time.Until(deadline)
		cfg.ConnectTimeout = min(max(remaining, time.Second), 10*time.Second)
		if opts.Password != nil {
			pw, err := opts.Password(ctx)
			if err != nil {
				return nil, err
			}
			cfg.Password = pw
		}
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			standby := readOnlyServer(conn.PgConn())
			if !opts.Writable || standby == "" {
				return conn, nil
			}
			_ = conn.Close(ctx)
			err = &LostError{Err: errors.New(standby), ReadOnly: true}
		}
		reason, retry := explain(err, t)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !retry || time.Until(deadline) <= 0 {
			if retry {
				reason += fmt.Sprintf(" (gave up after %d attempts in %s; raise --connect-timeout if the database is still starting)",
					attempt, opts.Timeout)
			}
			return nil, &Error{Target: t.Display, Reason: reason, Err: err}
		}
		pause := min(wait/2+rand.N(wait/2+1), time.Until(deadline))
		log.WarnContext(ctx, "database not reachable yet; retrying", "target", t.Display, "attempt", attempt,
			"retry_in_ms", pause.Milliseconds(), "reason", reason)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// explain turns a connection error into advice, and says whether trying again may help.
func explain(err error, t *config.Target) (reason string, retry bool) {
	var pgErr *pgconn.PgError
	var dnsErr *net.DNSError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var lost *LostError
	switch {
	case errors.As(err, &lost) && lost.ReadOnly:
		return "the server is a read-only standby (" + lost.Err.Error() + "): during a failover the endpoint moves to the new primary; waiting for it", true
	case errors.As(err, &pgErr):
		switch {
		case pgErr.Code == "28P01" || pgErr.Code == "28000":
			return fmt.Sprintf("the server rejected the credentials (%s): check the user name and password "+
				"(DATABASE_URL, DB_USERNAME/DB_PASSWORD or the secret)", pgErr.Message), false
		case pgErr.Code == "3D000":
			return fmt.Sprintf("%s: create the database or fix the database name", pgErr.Message), false
		case pgErr.Code == "57P03" || pgErr.Code == "53300" || strings.HasPrefix(pgErr.Code, "08"):
			return fmt.Sprintf("the server is not accepting connections yet (%s)", pgErr.Message), true
		default:
			return fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code), false
		}
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("host %q not found in DNS: check the host name in DATABASE_URL or DB_HOST", dnsErr.Name), true
	case errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &certInvalid):
		return fmt.Sprintf("the server's TLS certificate could not be verified (%v): set DB_SSLROOTCERT to the CA bundle "+
			"(the RDS bundle for RDS), or fix the host name", rootCause(err)), false
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: nothing listens there; is the database running and the port right?", true
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "no answer in time: check the host, network policies and security groups", true
	case strings.Contains(err.Error(), "server refused TLS connection"):
		return "the server does not offer TLS but sslmode requires it: use a server with TLS, or set DB_SSLMODE=disable for a local, trusted network only", false
	}
	return rootCause(err).Error(), true
}

// readOnlyServer says why the server cannot take writes, from the ParameterStatus messages it
// sent at startup (PostgreSQL 14 and later report in_hot_standby and
// default_transaction_read_only): no query, so the no-op path costs nothing more. "" when it can,
// or when the server does not say (then a write's SQLSTATE 25006 tells, see Lost).
func readOnlyServer(c *pgconn.PgConn) string {
	switch {
	case c.ParameterStatus("in_hot_standby") == "on":
		return "in_hot_standby=on"
	case c.ParameterStatus("default_transaction_read_only") == "on":
		return "default_transaction_read_only=on"
	}
	return ""
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
