package lint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/corpus"
)

// app runs the application's statements (the corpus, migrations/queries.sql) the way the
// running version of the services would: PostgreSQL prepares each one (parse analysis: every
// table, column, function and type it names, and its parameters' types) and executes it with
// values for its parameters, in a transaction that is rolled back. What fails is what a pod of
// the old version would see on its next request.
type app struct {
	queries []corpus.Query
	// before is what failed before the file: a statement that never worked here (say, its
	// values broke a CHECK) cannot show what the file changed.
	before map[string]string
}

// appBreak is an application statement that worked before the file and fails after a statement
// of it.
type appBreak struct {
	query corpus.Query
	err   string
}

func (a *app) worked(name string) bool { return a.before[name] == "" }

// baseline runs every statement before the file, outside any transaction.
func (a *app) baseline(ctx context.Context, conn *pgx.Conn) error {
	failing, err := a.run(ctx, conn, false)
	a.before = failing
	return err
}

// run prepares and executes each statement on conn, in a savepoint inside the migration's open
// transaction (it sees the file's changes so far, and the rollback releases what it locked) or
// in a transaction of its own; it returns the error of each one that failed, by name. An error
// means the check itself could not run.
func (a *app) run(ctx context.Context, conn *pgx.Conn, inTransaction bool) (map[string]string, error) {
	begin, end := "BEGIN", "ROLLBACK"
	if inTransaction {
		begin, end = "SAVEPOINT lint_app", "ROLLBACK TO SAVEPOINT lint_app; RELEASE SAVEPOINT lint_app"
	}
	failing := map[string]string{}
	for _, q := range a.queries {
		msg, err := a.one(ctx, conn, q, begin, end)
		if err != nil {
			return nil, fmt.Errorf("run the application's statement %s: %w", q.Name, err)
		}
		if msg != "" {
			failing[q.Name] = msg
		}
	}
	return failing, nil
}

const appStatement = "lint_app_statement"

// one runs a statement; the message is PostgreSQL's error when it failed.
func (a *app) one(ctx context.Context, conn *pgx.Conn, q corpus.Query, begin, end string) (msg string, err error) {
	prepared := false
	defer func() {
		if _, rerr := conn.Exec(context.WithoutCancel(ctx), end, pgx.QueryExecModeSimpleProtocol); rerr != nil && err == nil {
			err = rerr
		}
		if prepared { // a prepared statement outlives the rollback
			if _, derr := conn.Exec(context.WithoutCancel(ctx), "DEALLOCATE "+appStatement, pgx.QueryExecModeSimpleProtocol); derr != nil && err == nil {
				err = derr
			}
		}
	}()
	_, err = conn.Exec(ctx, begin+"; SET LOCAL statement_timeout = '5s'; PREPARE "+appStatement+" AS "+q.SQL, pgx.QueryExecModeSimpleProtocol)
	if msg, err := statementFailed(err); msg != "" || err != nil {
		return msg, err
	}
	prepared = true
	var types []string
	if err := conn.QueryRow(ctx, "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = $1", pgx.QueryExecModeSimpleProtocol, appStatement).
		Scan(&types); err != nil {
		return "", err
	}
	args := make([]string, len(types))
	for i, t := range types {
		args[i] = parameterValue(t, i)
	}
	execute := "EXECUTE " + appStatement
	if len(args) > 0 {
		execute += "(" + strings.Join(args, ", ") + ")"
	}
	_, err = conn.Exec(ctx, execute, pgx.QueryExecModeSimpleProtocol)
	return statementFailed(err)
}

// statementFailed sorts an error into the statement's own failure (a message) and anything else.
func statementFailed(err error) (string, error) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message, nil
	}
	return "", err
}

// parameterValue is the value a parameter of type typ gets: an integer is 1, which the dataset
// holds as a key in every table (it numbers their serial keys from 1), so a lookup or a foreign
// key finds its row; text is a fresh short value, so an insert into a unique column does not
// collide; other types a plain value of theirs.
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
