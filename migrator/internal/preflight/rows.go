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
// in one READ ONLY transaction without JIT, each query bounded by statement_timeout. The rules of a table
// that a row condition judges (CHECK, NOT NULL, a narrowed type, a foreign key to a new table)
// are counted together, in one pass over the table (count(*) FILTER per rule), and only those
// that fail read examples; a unique key or a foreign key to an existing table has a query of its
// own. A pass that times out reports each of its rules as timed out. It changes nothing and takes
// only the ACCESS SHARE locks of a SELECT.
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
	// No JIT: on by default (RDS too), it compiles every pass's expressions and deforming again
	// in the leader and in each parallel worker, which cost more than it saved on 10M rows
	// (PostgreSQL 15 with llvmjit: 1489 against 1273 ms for 0004's four passes, medians of 5).
	if _, err := tx.Exec(ctx, "SET LOCAL jit = off"); err != nil {
		return res, fmt.Errorf("pre-flight: %w", err)
	}
	c := counter{tx: tx, timeout: timeout, out: make([]outcome, len(rules))}
	// One pass per table, in the order the rules name them; the rules with a query of their own
	// after the passes.
	var tables []string
	passes := map[string][]int{}
	for i, r := range rules {
		if r.query == "" {
			if _, ok := passes[r.Table]; !ok {
				tables = append(tables, r.Table)
			}
			passes[r.Table] = append(passes[r.Table], i)
		}
	}
	for _, t := range tables {
		if err := c.pass(ctx, rules, passes[t]); err != nil {
			return res, err
		}
	}
	for i, r := range rules {
		if r.query != "" {
			if err := c.own(ctx, r, &c.out[i]); err != nil {
				return res, err
			}
		}
	}
	for i, o := range c.out {
		r := rules[i]
		switch {
		case o.timedOut:
			res.TimedOut = append(res.TimedOut, Timeout{Rule: r, After: timeout})
		case o.undefined != "":
			res.Unanswerable = append(res.Unanswerable, fmt.Sprintf("%s: %s %s %s (not counted: it uses what a pending file makes: %s)", r.File, r.Table, r.Kind, r.Name, o.undefined))
		case o.rows > 0:
			res.Broken = append(res.Broken, Violation{Rule: r, Rows: o.rows, Examples: o.examples})
		}
	}
	return res, nil
}

// outcome is what counting one rule found.
type outcome struct {
	rows      int64
	examples  []string
	timedOut  bool
	undefined string // the server's message when the rule names what the live database lacks
}

// counter runs the counting queries of CheckRows in its transaction.
type counter struct {
	tx      pgx.Tx
	timeout time.Duration
	out     []outcome
}

// pass counts the rules at idx (all on one table, each with a cond) in one scan, then reads the
// examples of those that fail. When the pass names what the live database lacks, each rule is
// counted alone, so that only the rules that use it are reported as not counted.
func (c *counter) pass(ctx context.Context, rules []Rule, idx []int) error {
	table := rules[idx[0]].Table
	counts := make([]any, len(idx))
	filters := make([]string, len(idx))
	n := make([]int64, len(idx))
	for k, i := range idx {
		filters[k] = "count(*) FILTER (WHERE " + rules[i].cond + ")"
		counts[k] = &n[k]
	}
	q := fmt.Sprintf("SELECT %s FROM %s t", strings.Join(filters, ", "), ident(table))
	err := c.bounded(ctx, func() error { return c.tx.QueryRow(ctx, q).Scan(counts...) })
	switch code := sqlState(err); {
	case code == "57014" && ctx.Err() == nil: // statement_timeout
		for _, i := range idx {
			c.out[i].timedOut = true
		}
		return nil
	case slices.Contains(undefined, code) && len(idx) > 1:
		for _, i := range idx {
			if err := c.pass(ctx, rules, []int{i}); err != nil {
				return err
			}
		}
		return nil
	case slices.Contains(undefined, code):
		c.out[idx[0]].undefined = message(err)
		return nil
	case err != nil:
		return fmt.Errorf("pre-flight: count the rows of %s that break the rules of %s: %w", table, rules[idx[0]].File, err)
	}
	for k, i := range idx {
		r, o := rules[i], &c.out[i]
		if o.rows = n[k]; o.rows == 0 {
			continue
		}
		// The examples of a rule the pass found broken; should this query time out, the count
		// stands without them.
		q := fmt.Sprintf("SELECT %s FROM %s t WHERE %s ORDER BY 1 LIMIT %d", r.example, ident(table), r.cond, Examples)
		err := c.bounded(ctx, func() error {
			rows, err := c.tx.Query(ctx, q)
			if err != nil {
				return err
			}
			o.examples, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil && (sqlState(err) != "57014" || ctx.Err() != nil) {
			return fmt.Errorf("pre-flight: read examples of the rows of %s that break %s %s (%s): %w", table, r.Kind, r.Name, r.File, err)
		}
	}
	return nil
}

// own counts a rule with a query of its own, which returns the count and the examples at once.
func (c *counter) own(ctx context.Context, r Rule, o *outcome) error {
	err := c.bounded(ctx, func() error {
		rows, err := c.tx.Query(ctx, r.query)
		if err != nil {
			return err
		}
		var ex string
		_, err = pgx.ForEachRow(rows, []any{&o.rows, &ex}, func() error { o.examples = append(o.examples, ex); return nil })
		return err
	})
	switch code := sqlState(err); {
	case code == "57014" && ctx.Err() == nil:
		o.timedOut = true
	case slices.Contains(undefined, code):
		// The rule uses what only a pending file makes: the live database cannot answer, and
		// the file's own statement will check.
		o.undefined = message(err)
	case err != nil:
		return fmt.Errorf("pre-flight: count the rows of %s that break %s %s (%s): %w", r.Table, r.Kind, r.Name, r.File, err)
	}
	return nil
}

// bounded runs f in a savepoint with statement_timeout set: a cancelled query must not end the
// transaction the other queries run in. It returns f's error; the savepoint's own errors are
// wrapped.
func (c *counter) bounded(ctx context.Context, f func() error) error {
	if _, err := c.tx.Exec(ctx, fmt.Sprintf("SAVEPOINT rule; SET LOCAL statement_timeout = %d", c.timeout.Milliseconds())); err != nil {
		return fmt.Errorf("pre-flight: %w", err)
	}
	ferr := f()
	if _, err := c.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT rule"); err != nil && ferr == nil {
		return fmt.Errorf("pre-flight: %w", err)
	}
	return ferr
}

// sqlState is err's SQLSTATE, or "" for an error that is not the server's.
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// message is the server's message in err.
func message(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message
	}
	return err.Error()
}

// String is one line of the refusal: the rule, the count, the examples.
func (v Violation) String() string {
	line := fmt.Sprintf("%s: %s %s %s (%s): %d rows break it", v.Rule.File, v.Rule.Table, v.Rule.Kind, v.Rule.Name, v.Rule.Def, v.Rows)
	if len(v.Examples) == 0 { // reading them took longer than statement_timeout
		return line
	}
	return line + ", e.g. " + strings.Join(v.Examples, ", ")
}
