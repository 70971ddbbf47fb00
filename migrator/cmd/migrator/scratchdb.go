package main

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// The scratch databases lint (--database-url) and the pre-flight make on a server and drop
// again. --statement-timeout bounds the migration's statements, not the making of a database (a
// copy of template1, slow on a busy server) or its dropping: both run without it.

// createDatabase makes the empty database name on conn's server.
func createDatabase(ctx context.Context, conn *pgx.Conn, name string) error {
	return withoutStatementTimeout(ctx, conn, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
}

// dropScratchOn drops the scratch database name, closing its sessions; a failure is logged for
// a person to drop it by hand.
func (a *app) dropScratchOn(ctx context.Context, conn *pgx.Conn, name string) {
	if err := withoutStatementTimeout(ctx, conn, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		a.log.WarnContext(ctx, "could not drop a scratch database; drop it by hand", "database", name, "error", err)
	}
}

// withoutStatementTimeout runs sql (which may not run in a transaction block) with no
// statement_timeout, then restores the session's own.
func withoutStatementTimeout(ctx context.Context, conn *pgx.Conn, sql string) error {
	if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		return err
	}
	_, err := conn.Exec(ctx, sql)
	if _, rerr := conn.Exec(context.WithoutCancel(ctx), "RESET statement_timeout"); rerr != nil && err == nil {
		err = rerr
	}
	return err
}
