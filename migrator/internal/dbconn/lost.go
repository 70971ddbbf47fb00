package dbconn

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// LostError is a connection that worked and then went away (a failover, a restart, a network
// cut, a dead peer noticed by keepalives), or a server that turned out to be a read-only
// standby. It is transient: the CLI exits with code 3, the Job's next pod runs again and
// resumes where this run stopped.
type LostError struct {
	Err      error
	ReadOnly bool // the server refused a write as a hot standby would (SQLSTATE 25006)
}

func (e *LostError) Error() string {
	if e.ReadOnly {
		return "the server is a read-only standby (SQLSTATE 25006): the endpoint has not moved to the new primary yet; " +
			"nothing half-done is left, and the next run (the Job retries exit 3) tries again: " + e.Err.Error()
	}
	return "the connection to the database was lost: a transactional file rolled back, a no-transaction file's progress " +
		"is recorded, and the next run (the Job retries exit 3) resumes where this one stopped: " + e.Err.Error()
}

func (e *LostError) Unwrap() error { return e.Err }

// Lost reports whether err is the connection failing rather than the server refusing a
// statement: the socket closed or reset, a dead peer, the server shutting down or restarting,
// or a write refused by a read-only standby.
func Lost(err error) bool {
	if err == nil {
		return false
	}
	var lost *LostError
	if errors.As(err, &lost) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == readOnlyTransaction,
			pgErr.Code == "57P01", // admin_shutdown: a fast shutdown, a failover
			pgErr.Code == "57P02", // crash_shutdown
			pgErr.Code == "57P03", // cannot_connect_now: starting up, shutting down, in recovery
			strings.HasPrefix(pgErr.Code, "08"):
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var opErr *net.OpError
	switch {
	case errors.As(err, &connectErr), errors.As(err, &opErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return true
	}
	// pgx's own word for a connection it has already closed after a network error.
	return strings.Contains(err.Error(), "conn closed")
}

// ReadOnly reports whether err is a write refused by a read-only server (SQLSTATE 25006).
func ReadOnly(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == readOnlyTransaction
}

const readOnlyTransaction = "25006"

// AsLost wraps err in a *LostError when it is a lost connection (or the connection it ran on,
// closed, says so), so that the caller exits with code 3; other errors are returned as they are.
func AsLost(err error, closed bool) error {
	var lost *LostError
	var connErr *Error
	if err == nil || errors.As(err, &lost) || errors.As(err, &connErr) {
		return err
	}
	if Lost(err) || closed {
		return &LostError{Err: err, ReadOnly: ReadOnly(err)}
	}
	return err
}
