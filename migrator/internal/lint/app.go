package lint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/corpus"
)

// app runs the application's statements (the corpus, migrations/queries.sql) the way a running
// version of the services does: each one is prepared before the file (pgx's statement cache and
// JDBC's server-side prepares keep them so) and executed after each statement of it, with values
// drawn from the dataset's own rows, so that an UPDATE finds its row and fires its triggers.
// Executions run in a savepoint or a transaction that is rolled back. What fails, and what
// stops returning rows, is what a pod of the old version would see on its next request.
type app struct {
	queries   []corpus.Query
	statement []*appStatement // this file's, prepared before it
	// samples are the rows parameters draw their values from, one per table, read once per file.
	samples map[string]map[string]string
}

// appStatement is one application statement as prepared before the file.
type appStatement struct {
	query corpus.Query
	name  string // the prepared statement's name
	args  string // its parameters' values, "(...)" or ""
	// err is why it could not run before the file (prepared or executed): then nothing after it
	// tells what the file changed. notRun: for a reason other than the schema lacking what it
	// names (a table, column or function a later file adds), which makes it a finding.
	err        string
	notRun     bool
	unprepared bool  // PREPARE itself failed
	rows       int64 // rows it returned or changed before the file
	plan       plan
	// variants are other values it ran with before the file: for a parameter that stands for a
	// column of few distinct values (a status, an enum), each of them, so that a file that stops
	// allowing one ('cancelled' leaving a CHECK's IN list) is seen.
	variants []string
}

// appBreak is an application statement that worked before the file and fails (or returns
// nothing) after a statement of it.
type appBreak struct {
	query      corpus.Query
	err        string
	resultType bool // a cached plan's result columns changed
	empty      bool // a read that returned rows returns none
}

// result is one execution's outcome.
type result struct {
	msg  string // PostgreSQL's error, "" when it ran
	code string
	rows int64
}

// undefinedObject are the errors of a statement naming what the schema does not have yet: it
// belongs to a later version of the application, and is not lint's failure to run it.
var undefinedObject = []string{"42P01", "42703", "42883", "42704", "3F000"}

// prepare prepares every statement on conn before the file, outside any transaction, picks the
// values it runs with and plans it.
func (a *app) prepare(ctx context.Context, conn *pgx.Conn) error {
	for _, st := range a.statement { // the last file's: pgx's own prepared statements stay
		if _, err := conn.Exec(ctx, "DEALLOCATE "+st.name, pgx.QueryExecModeSimpleProtocol); err != nil && !st.unprepared {
			return fmt.Errorf("forget the statements prepared for the last file: %w", err)
		}
	}
	a.statement, a.samples = nil, map[string]map[string]string{}
	for i, q := range a.queries {
		st := &appStatement{query: q, name: fmt.Sprintf("lint_app_%d", i+1)}
		a.statement = append(a.statement, st)
		_, err := conn.Exec(ctx, "PREPARE "+st.name+" AS "+q.SQL, pgx.QueryExecModeSimpleProtocol)
		if msg, code, err := statementFailed(err); err != nil {
			return fmt.Errorf("prepare the application's statement %s: %w", q.Name, err)
		} else if msg != "" {
			st.err, st.notRun, st.unprepared = msg, !slices.Contains(undefinedObject, code), true
			continue
		}
		r, err := a.chooseValues(ctx, conn, st)
		if err != nil {
			return fmt.Errorf("run the application's statement %s: %w", q.Name, err)
		}
		if r.msg != "" {
			st.err, st.notRun = r.msg, !slices.Contains(undefinedObject, r.code)
			continue
		}
		st.rows = r.rows
		if st.plan, err = explain(ctx, conn, st, false); err != nil {
			return err
		}
	}
	return nil
}

// notChecked are the statements that could not run before the file, by name, with their errors.
func (a *app) notChecked() map[string]string {
	out := map[string]string{}
	for _, st := range a.statement {
		if st.err != "" {
			out[st.query.Name] = st.err
		}
	}
	return out
}

// check executes every statement that ran before the file (and plans it again where plans is
// set: after a statement that may have changed the catalog), in a savepoint inside the migration's
// open transaction (it sees the file's changes so far, and the rollback releases what it locked)
// or in a transaction of its own; it returns what broke and which plans got worse.
func (a *app) check(ctx context.Context, conn *pgx.Conn, inTransaction, plans bool, opts Options, populated map[string]int64) ([]appBreak, []planChange, error) {
	var breaks []appBreak
	var slowed []planChange
	for _, st := range a.statement {
		if st.err != "" {
			continue
		}
		r, err := execute(ctx, conn, st, inTransaction)
		if err != nil {
			return nil, nil, fmt.Errorf("run the application's statement %s: %w", st.query.Name, err)
		}
		if r.msg == "" {
			main := st.args
			for _, v := range st.variants { // the other values it ran with before the file
				st.args = v
				vr, err := execute(ctx, conn, st, inTransaction)
				if err != nil {
					st.args = main
					return nil, nil, fmt.Errorf("run the application's statement %s: %w", st.query.Name, err)
				}
				if vr.msg != "" {
					r, r.msg = vr, vr.msg+" (with the values "+v+", which worked before the file)"
					break
				}
			}
			st.args = main
		}
		switch {
		case r.msg != "":
			breaks = append(breaks, appBreak{query: st.query, err: r.msg,
				resultType: r.code == "0A000" && strings.Contains(r.msg, "cached plan must not change result type")})
			continue
		case st.rows > 0 && r.rows == 0:
			breaks = append(breaks, appBreak{query: st.query, empty: true,
				err: fmt.Sprintf("returned or changed %d row(s) before the file and none after it", st.rows)})
			continue
		}
		if !plans {
			continue
		}
		after, err := explain(ctx, conn, st, inTransaction)
		if err != nil {
			return nil, nil, err
		}
		if c, worse := st.plan.worse(after, opts.maxPlanGrowth(), populated); worse {
			c.query = st.query
			slowed = append(slowed, c)
		}
	}
	return breaks, slowed, nil
}

// execute runs a prepared statement once with its values, rolled back.
func execute(ctx context.Context, conn *pgx.Conn, st *appStatement, inTransaction bool) (result, error) {
	res, err := inOneTrip(ctx, conn, inTransaction, "", "EXECUTE "+st.name+st.args)
	if err != nil || res.Err != nil {
		msg, code, err := statementFailed(errors.Join(err, res.Err))
		return result{msg: msg, code: code}, err
	}
	return result{rows: res.CommandTag.RowsAffected()}, nil
}

// inOneTrip runs sql (after setup) in a savepoint or a transaction that is rolled back, all in
// one round trip when it succeeds (lint runs every application statement after every statement
// of a file), and returns sql's result.
func inOneTrip(ctx context.Context, conn *pgx.Conn, inTransaction bool, setup, sql string) (*pgconn.Result, error) {
	begin, end := "BEGIN", "ROLLBACK"
	if inTransaction {
		begin, end = "SAVEPOINT lint_app", "ROLLBACK TO SAVEPOINT lint_app; RELEASE SAVEPOINT lint_app"
	}
	script := begin + "; SET LOCAL statement_timeout = '5s'; " + setup + sql + "; " + end
	results, err := conn.PgConn().Exec(ctx, script).ReadAll()
	var pgErr *pgconn.PgError
	if err != nil && !errors.As(err, &pgErr) {
		return nil, err
	}
	// The statements are begin, SET, the setup's, sql, then end's: sql's result is the one
	// before end's; on an error the script stopped there, and end must still run.
	ends := strings.Count(end, ";") + 1
	var out *pgconn.Result
	if err == nil && len(results) > ends {
		out = results[len(results)-1-ends]
	} else {
		for _, r := range results {
			if r.Err != nil {
				out = r
			}
		}
		if out == nil {
			out = &pgconn.Result{Err: err}
		}
		if _, rerr := conn.Exec(context.WithoutCancel(ctx), end, pgx.QueryExecModeSimpleProtocol); rerr != nil {
			return nil, rerr
		}
	}
	return out, nil
}

// statementFailed sorts an error into the statement's own failure (a message and SQLSTATE) and
// anything else.
func statementFailed(err error) (string, string, error) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message, pgErr.Code, nil
	}
	return "", "", err
}

// chooseValues picks the values st runs with: for a parameter the plan compares with a column
// (WHERE id = $2), that column's value in a row of the dataset, the same row for every column of
// a table; for the others a plain value of the type, then, while the statement fails on a value
// (a CHECK's IN list, a foreign key, an enum) or changes no row, the values the same-typed
// columns of the tables it names hold. It returns the outcome with the values kept.
func (a *app) chooseValues(ctx context.Context, conn *pgx.Conn, st *appStatement) (result, error) {
	var types []string
	if err := conn.QueryRow(ctx, "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = $1", pgx.QueryExecModeSimpleProtocol, st.name).
		Scan(&types); err != nil {
		return result{}, err
	}
	if len(types) == 0 {
		return execute(ctx, conn, st, false)
	}
	compared, relations, err := comparedColumns(ctx, conn, st, len(types))
	if err != nil {
		return result{}, err
	}
	samples := map[string]map[string]string{}
	for _, t := range relations {
		if _, ok := a.samples[t]; !ok {
			if a.samples[t], err = sampleRow(ctx, conn, t); err != nil {
				return result{}, err
			}
		}
		samples[t] = a.samples[t]
	}
	args := make([]string, len(types))
	fixed := make([]bool, len(types))
	source := make([]columnRef, len(types)) // the column a parameter's value came from
	for i, typ := range types {
		args[i] = parameterValue(typ, i)
		if c, ok := compared[i+1]; ok {
			if v, ok := samples[c.table][c.column]; ok {
				args[i], fixed[i], source[i] = literal(v, typ), true, c
			}
		}
	}
	run := func() (result, error) {
		st.args = "(" + strings.Join(args, ", ") + ")"
		return execute(ctx, conn, st, false)
	}
	best, err := run()
	if err != nil {
		return result{}, err
	}
	good := func(r result) bool { return r.msg == "" && r.rows > 0 }
	for i := range args {
		if good(best) {
			break
		}
		if fixed[i] {
			continue
		}
		kept := args[i]
		for _, c := range candidates(samples, relations) {
			args[i] = literal(c.value, types[i])
			r, err := run()
			if err != nil {
				return result{}, err
			}
			if good(r) || (best.msg != "" && r.msg == "") {
				best, kept, source[i] = r, args[i], c.columnRef
				if good(r) {
					break
				}
			}
		}
		args[i] = kept
	}
	st.args = "(" + strings.Join(args, ", ") + ")"
	if best.msg != "" {
		return best, nil
	}
	for i, c := range source {
		if c.table == "" {
			continue
		}
		values, err := fewValues(ctx, conn, c)
		if err != nil {
			return result{}, err
		}
		for _, v := range values {
			variant := slices.Clone(args)
			if variant[i] = literal(v, types[i]); variant[i] == args[i] {
				continue
			}
			st.args = "(" + strings.Join(variant, ", ") + ")"
			r, err := execute(ctx, conn, st, false)
			if err != nil {
				return result{}, err
			}
			if r.msg == "" {
				st.variants = append(st.variants, st.args)
			}
		}
	}
	st.args = "(" + strings.Join(args, ", ") + ")"
	return best, nil
}

// maxVariants is how many distinct values a column may have for lint to try each of them.
const maxVariants = 12

// fewValues lists the distinct values of a column that has at most maxVariants of them, as the
// planner's statistics know them (the dataset is analyzed): no scan of the table.
func fewValues(ctx context.Context, conn *pgx.Conn, c columnRef) ([]string, error) {
	var values []string
	err := conn.QueryRow(ctx, `SELECT most_common_vals::text::text[] FROM pg_stats
 WHERE schemaname = current_schema() AND tablename = $1 AND attname = $2 AND n_distinct > 0 AND n_distinct <= $3
   AND most_common_vals IS NOT NULL AND cardinality(most_common_vals::text::text[]) = n_distinct`, c.table, c.column, maxVariants).Scan(&values)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if _, _, ferr := statementFailed(err); ferr != nil {
		return nil, fmt.Errorf("read the values of %s.%s: %w", c.table, c.column, ferr)
	}
	return values, nil
}

// columnRef is a table's column.
type columnRef struct{ table, column string }

// comparedColumns asks the planner which column each parameter is compared with: the generic
// plan (plan_cache_mode force_generic_plan, as EXPLAIN (GENERIC_PLAN) shows it) names them in
// its conditions ("(o.id = $2)"); it also lists the tables the statement reads or writes.
func comparedColumns(ctx context.Context, conn *pgx.Conn, st *appStatement, params int) (map[int]columnRef, []string, error) {
	nulls := strings.TrimSuffix(strings.Repeat("NULL, ", params), ", ")
	res, err := inOneTrip(ctx, conn, false, "SET LOCAL plan_cache_mode = force_generic_plan; ", "EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE "+st.name+"("+nulls+")")
	if err != nil || res.Err != nil || len(res.Rows) == 0 || len(res.Rows[0]) == 0 {
		return nil, nil, err
	}
	doc := string(res.Rows[0][0])
	var nodes []map[string]any
	if err := json.Unmarshal([]byte(doc), &nodes); err != nil || len(nodes) == 0 {
		return nil, nil, nil
	}
	aliases := map[string]string{}
	var conditions []string
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if rel, ok := n["Relation Name"].(string); ok {
			aliases[rel] = rel
			if alias, ok := n["Alias"].(string); ok {
				aliases[alias] = rel
			}
		}
		for k, v := range n {
			if s, ok := v.(string); ok && strings.Contains(s, "$") && (strings.HasSuffix(k, "Cond") || strings.HasSuffix(k, "Filter")) {
				conditions = append(conditions, s)
			}
		}
		if kids, ok := n["Plans"].([]any); ok {
			for _, k := range kids {
				if m, ok := k.(map[string]any); ok {
					walk(m)
				}
			}
		}
	}
	if p, ok := nodes[0]["Plan"].(map[string]any); ok {
		walk(p)
	}
	out := map[int]columnRef{}
	for _, c := range conditions {
		for _, m := range columnEqualsParam.FindAllStringSubmatch(c, -1) {
			alias, column, n := m[1], m[2], m[3]
			if alias == "" {
				alias, column, n = m[5], m[6], m[4]
			}
			var i int
			fmt.Sscan(n, &i)
			if rel, ok := aliases[alias]; ok {
				if _, seen := out[i]; !seen {
					out[i] = columnRef{table: rel, column: column}
				}
			}
		}
	}
	var relations []string
	for _, rel := range aliases {
		if !slices.Contains(relations, rel) {
			relations = append(relations, rel)
		}
	}
	slices.Sort(relations)
	return out, relations, nil
}

// sampleRow reads one row of table, each column as text: the values a parameter compared with
// the column takes, so that the statement finds a row.
func sampleRow(ctx context.Context, conn *pgx.Conn, table string) (map[string]string, error) {
	var doc []byte
	err := conn.QueryRow(ctx, "SELECT row_to_json(t)::text FROM "+pgx.Identifier{table}.Sanitize()+" t LIMIT 1").Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if _, _, ferr := statementFailed(err); ferr != nil {
		return nil, fmt.Errorf("read a row of %s: %w", table, ferr)
	}
	var row map[string]any
	if err := json.Unmarshal(doc, &row); err != nil {
		return nil, nil
	}
	out := map[string]string{}
	for k, v := range row {
		switch v := v.(type) {
		case nil:
		case string:
			out[k] = v
		case map[string]any, []any:
			b, _ := json.Marshal(v)
			out[k] = string(b)
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}

// candidate is a value of a sampled row and the column it came from.
type candidate struct {
	columnRef
	value string
}

// candidates are the values of the sampled rows, in a stable order.
func candidates(samples map[string]map[string]string, relations []string) []candidate {
	var out []candidate
	for _, t := range relations {
		for _, c := range sortedKeys(samples[t]) {
			v := samples[t][c]
			if !slices.ContainsFunc(out, func(o candidate) bool { return o.value == v }) {
				out = append(out, candidate{columnRef{t, c}, v})
			}
		}
	}
	if len(out) > 24 {
		out = out[:24]
	}
	return out
}

// literal is v as a constant of type typ.
func literal(v, typ string) string { return sqlscript.QuoteLiteral(v) + "::" + typ }

// parameterValue is the value a parameter of type typ gets first: an integer is 1, which the
// dataset holds as a key in every table (it numbers their serial keys from 1), so a lookup or a
// foreign key finds its row; text is a fresh short value, so an insert into a unique column does
// not collide; other types a plain value of theirs.
func parameterValue(typ string, i int) string {
	switch {
	case strings.HasSuffix(typ, "[]"):
		return "'{}'"
	case typ == "smallint" || typ == "integer" || typ == "bigint" || typ == "numeric" || typ == "real" || typ == "double precision":
		return "1"
	case typ == "boolean":
		return "true"
	case strings.HasPrefix(typ, "timestamp") || typ == "date" || strings.HasPrefix(typ, "time"):
		return "now()"
	case typ == "uuid":
		return "gen_random_uuid()"
	case typ == "json" || typ == "jsonb":
		return "'{}'"
	}
	return fmt.Sprintf("'lint%d%s'", i+1, randomSuffix())
}

// randomSuffix keeps text values unique across runs of the same statement.
func randomSuffix() string { return fmt.Sprintf("%x", appCounter.Add(1)) }

var appCounter atomic.Uint64
