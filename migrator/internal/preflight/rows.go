package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Violation is a rule the live rows break.
type Violation struct {
	Rule     Rule
	Rows     int64
	Examples []string
}

// Timeout is a rule whose counting query hit statement_timeout.
type Timeout struct {
	Rule  Rule
	After time.Duration
}

// CheckRows counts, on the live database (or its read replica), the rows that break each rule:
// in one READ ONLY transaction, each query bounded by statement_timeout. It changes nothing and
// takes only the ACCESS SHARE locks of a SELECT.
func CheckRows(ctx context.Context, conn *pgx.Conn, rules []Rule, timeout time.Duration) (broken []Violation, timedOut []Timeout, err error) {
	if len(rules) == 0 {
		return nil, nil, nil
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, fmt.Errorf("pre-flight: begin the read-only check: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, r := range rules {
		// A savepoint per query: a cancelled one must not end the others' transaction.
		if _, err := tx.Exec(ctx, fmt.Sprintf("SAVEPOINT rule; SET LOCAL statement_timeout = %d", timeout.Milliseconds())); err != nil {
			return broken, timedOut, fmt.Errorf("pre-flight: %w", err)
		}
		v := Violation{Rule: r}
		rows, err := tx.Query(ctx, r.query)
		if err == nil {
			var ex string
			_, err = pgx.ForEachRow(rows, []any{&v.Rows, &ex}, func() error { v.Examples = append(v.Examples, ex); return nil })
		}
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && pgErr.Code == "57014" && ctx.Err() == nil: // statement_timeout
			timedOut = append(timedOut, Timeout{Rule: r, After: timeout})
		case err != nil:
			return broken, timedOut, fmt.Errorf("pre-flight: count the rows of %s that break %s %s (%s): %w", r.Table, r.Kind, r.Name, r.File, err)
		case v.Rows > 0:
			broken = append(broken, v)
		}
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT rule"); err != nil {
			return broken, timedOut, fmt.Errorf("pre-flight: %w", err)
		}
	}
	return broken, timedOut, nil
}

// String is one line of the refusal: the rule, the count, the examples.
func (v Violation) String() string {
	return fmt.Sprintf("%s: %s %s %s (%s): %d rows break it, e.g. %s", v.Rule.File, v.Rule.Table, v.Rule.Kind, v.Rule.Name, v.Rule.Def,
		v.Rows, strings.Join(v.Examples, ", "))
}
