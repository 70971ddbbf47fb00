package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
)

var migrationName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(?:_[a-z0-9]+)*$`) })

const migrationTemplate = `-- %[1]s: <what this migration changes, in one line>.
-- Why: <the reason, so that a reviewer can judge the risk>.
-- Locks: <which locks it takes on which tables, and for how long>.
-- Safe on a live database? Prefer NOT VALID then VALIDATE, CREATE INDEX CONCURRENTLY (in a
-- file marked "-- migrator:no-transaction"), and batched backfills; see the README.

<SQL for up>

-- migrator:down
-- Remove this section if the change cannot be undone; ` + "`migrator down`" + ` then refuses to pass it.

<SQL for down>
`

func cmdCreate(ctx context.Context, a *app, args []string) error {
	flags := a.flags("create", "NAME [--dir DIR]", "Write DIR/NNNN_NAME.sql with the next version number and a template to fill in.", false)
	flags.Lookup("dir").Usage = "the migrations directory to write to (default migrations) [MIGRATOR_DIR]"
	rest, err := flags.parse(args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("create needs exactly one NAME, e.g. `migrator create add_cart_expiry`")
	}
	name := rest[0]
	if !migrationName().MatchString(name) {
		return usagef("migration name %q: use lower-case letters, digits and underscores, e.g. add_cart_expiry", name)
	}
	dir := a.dir
	if dir == "" {
		dir = "migrations"
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("migrations directory %q not found: run from the repository root or pass --dir", dir)
	}
	next := 1
	if migs, err := migrate.Load(os.DirFS(dir)); err == nil {
		next = len(migs) + 1
	} else if !errors.Is(err, migrate.ErrNoMigrations) {
		return fmt.Errorf("%w: %v", errLoad, err)
	}
	file := fmt.Sprintf("%04d_%s.sql", next, name)
	path := filepath.Join(dir, file)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := fmt.Fprintf(f, migrationTemplate, file[:len(file)-4]); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintln(a.stdout, path)
	return nil
}
