package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

func cmdVerify(ctx context.Context, a *app, args []string) error {
	flags := a.flags("verify", "[flags]", "Compare the live schema (tables, columns, types, nullability, defaults, constraints and\n"+
		"whether they are validated, indexes and whether they are valid, triggers, functions) with the\n"+
		"expected schema after all migrations, and list every difference. Exit 5 when they differ.", true)
	if err := flags.parseFlags(args); err != nil {
		return err
	}
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer closeConn(s.conn)
	m, p, conn := s.m, s.project, s.conn
	st, err := m.Check(ctx)
	if err != nil {
		return err
	}
	if !st.HistoryExists {
		if present, _, lerr := m.Legacy(ctx); lerr == nil && present {
			// Tables without a history: `up` refuses to guess, so saying "run up" would send the
			// operator in a circle. Say what the tables match instead.
			if err := a.verify(ctx, conn, p); err != nil {
				return err
			}
			return &migrate.DriftError{Problems: []string{fmt.Sprintf("the tables match the schema of version %04d, but the history table %s is missing: "+
				"restore it from a backup or the pre-migration snapshot (do not run up, which refuses to adopt a migrated schema, nor alter the tables)",
				m.Latest(), migrate.DefaultHistoryTable)}}
		}
	}
	if n := len(st.Pending); n > 0 {
		return &schema.MismatchError{Diffs: []schema.Difference{{Kind: "migrations", Name: fmt.Sprintf("%d pending", n),
			Expected: fmt.Sprintf("version %04d", m.Latest()), Found: fmt.Sprintf("version %04d: run `migrator up` first", st.Current())}}}
	}
	if err := a.verify(ctx, conn, p); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "schema verified: %d objects match the expected schema at version %04d\n", len(p.expected), st.Current())
	a.summary = fmt.Sprintf("schema verified at version %04d", st.Current())
	return nil
}

// verify compares the live catalog with the expected snapshot: one catalog query.
func (a *app) verify(ctx context.Context, conn *pgx.Conn, p *project) error {
	if len(p.expected) == 0 {
		return usagef("there is no expected schema to verify against: --dir %s has no schema.sql", a.dir)
	}
	start := time.Now()
	live, err := schema.Read(ctx, conn, schema.ForSnapshot(p.expected, migrate.DefaultHistoryTable))
	if err != nil {
		return err
	}
	diffs, err := schema.Compare(ctx, conn, p.expected, live)
	if err != nil {
		return err
	}
	a.step(ctx, "verify", start, "objects", len(p.expected), "differences", len(diffs))
	if len(diffs) > 0 {
		return &schema.MismatchError{Diffs: diffs}
	}
	return nil
}
