package preflight

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// Counted is what CheckRows found.
type Counted struct {
	Broken   []Violation
	TimedOut []Timeout
	// Unanswerable are rules the live database cannot count: they use a column, function or
	// type only a pending file makes.
	Unanswerable []string
}

// undefined are the SQLSTATEs of a counting query that names what the live database lacks:
// undefined column, function, table, object.
var undefined = []string{"42703", "42883", "42P01", "42704"}

// CheckRows counts, on the live database (or its read replica), the rows that break each rule:
// in one READ ONLY transaction, each query bounded by statement_timeout. It changes nothing and
// takes only the ACCESS SHARE locks of a SELECT.
func CheckRows(ctx context.Context, conn *pgx.Conn, rules []Rule, timeout time.Duration) (Counted, error) {
	var res Counted
	if len(rules) == 0 {
		return res, nil
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return res, fmt.Errorf("pre-flight: begin the read-only check: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, r := range rules {
		// A savepoint per query: a cancelled one must not end the others' transaction.
		if _, err := tx.Exec(ctx, fmt.Sprintf("SAVEPOINT rule; SET LOCAL statement_timeout = %d", timeout.Milliseconds())); err != nil {
			return res, fmt.Errorf("pre-flight: %w", err)
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
			res.TimedOut = append(res.TimedOut, Timeout{Rule: r, After: timeout})
		case errors.As(err, &pgErr) && slices.Contains(undefined, pgErr.Code):
			// The rule uses what only a pending file makes: the live database cannot answer,
			// and the file's own statement will check.
			res.Unanswerable = append(res.Unanswerable, fmt.Sprintf("%s: %s %s %s (not counted: it uses what a pending file makes: %s)", r.File, r.Table, r.Kind, r.Name, pgErr.Message))
		case err != nil:
			return res, fmt.Errorf("pre-flight: count the rows of %s that break %s %s (%s): %w", r.Table, r.Kind, r.Name, r.File, err)
		case v.Rows > 0:
			res.Broken = append(res.Broken, v)
		}
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT rule"); err != nil {
			return res, fmt.Errorf("pre-flight: %w", err)
		}
	}
	return res, nil
}

// String is one line of the refusal: the rule, the count, the examples.
func (v Violation) String() string {
	return fmt.Sprintf("%s: %s %s %s (%s): %d rows break it, e.g. %s", v.Rule.File, v.Rule.Table, v.Rule.Kind, v.Rule.Name, v.Rule.Def,
		v.Rows, strings.Join(v.Examples, ", "))
}
