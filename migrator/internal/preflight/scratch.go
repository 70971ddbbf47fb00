package preflight

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/dataset"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pglock"
)

// Derive applies the live database's migrations and then each pending file to the empty scratch
// database, and derives from the catalog before and after each file the rules it adds and the
// locks it takes. A file the scratch database refuses is returned as a *ScratchError (its
// file, line and column), before anything touched the live database.
func Derive(ctx context.Context, s Scratch) (Derived, error) {
	start := time.Now()
	conn, err := s.Connect(ctx)
	if err != nil {
		return Derived{}, fmt.Errorf("pre-flight: open the scratch database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	engine := s.Engine.Alone(nil) // its log is silent: nothing live happens there
	history := engine.History()
	m, err := migrate.New(conn, engine)
	if err != nil {
		return Derived{}, err
	}
	all := migrate.UpPlan{Verify: migrate.VerifyNever, PostDeploy: true}
	if s.Applied > 0 {
		all.Target = s.Applied
		if _, err := m.Up(ctx, all, migrate.Hooks{}); err != nil {
			return Derived{}, fmt.Errorf("pre-flight: apply the live database's migrations (up to %04d) to the scratch database: %w", s.Applied, err)
		}
	}
	live, err := readCatalog(ctx, conn, history)
	if err != nil {
		return Derived{}, err
	}
	if err := watchWrites(ctx, conn, live); err != nil {
		return Derived{}, err
	}
	seen, err := writes(ctx, conn)
	if err != nil {
		return Derived{}, err
	}
	before := live
	var d Derived
	written := map[uint32]string{} // live tables a pending file writes rows to -> the first such file
	for _, mig := range s.Pending {
		obs := &observer{conn: conn, history: history, modes: map[uint32][]string{}, waits: map[uint32]bool{}}
		all.Target = mig.Version
		if _, err := m.Up(ctx, all, migrate.Hooks{Observer: obs}); err != nil {
			return d, &ScratchError{File: mig.File, Err: err}
		}
		after, err := readCatalog(ctx, conn, history)
		if err != nil {
			return d, err
		}
		counts, err := writes(ctx, conn)
		if err != nil {
			return d, err
		}
		for _, oid := range writtenSince(seen, counts) {
			if _, seen := written[oid]; !seen {
				written[oid] = mig.File + " writes rows of " + live.tables[oid] + " before it"
			}
		}
		seen = counts
		if obs.opaque != "" {
			// A procedure the pass over generated rows could not run may write any table.
			for oid := range live.tables {
				if _, seen := written[oid]; !seen {
					written[oid] = mig.File + " runs a procedure (DO) whose writes could not be seen: " + obs.opaque
				}
			}
		}
		rules, unchecked := derive(mig, before, after)
		for _, r := range rules {
			// Only a table the live database has holds rows to count, and only as they are now:
			// after a pending file rewrites them (a backfill), or the rows a foreign key refers
			// to, the live rows say nothing of what the rule will meet; that file's own
			// statements and the rule's check decide then.
			liveName, exists := live.tables[r.table]
			refName, refExists := live.tables[r.refTable]
			notCounted := func(why string) {
				d.Unchecked = append(d.Unchecked, fmt.Sprintf("%s: %s %s %s (not counted: %s; the file's own statements check when they run)", r.File, r.Table, r.Kind, r.Name, why))
			}
			switch {
			case !exists: // a table a pending file made: no live rows
			case liveName != r.Table:
				notCounted(fmt.Sprintf("a pending file renames %s to %s before it", liveName, r.Table))
			case written[r.table] != "":
				notCounted(written[r.table])
			case r.refTable != 0 && !refExists:
				notCounted(fmt.Sprintf("it refers to %s, which a pending file makes", r.Table))
			case r.refTable != 0 && written[r.refTable] != "":
				notCounted(written[r.refTable] + " (the rows it refers to)")
			case r.refTable != 0 && refName != before.tables[r.refTable]:
				notCounted(fmt.Sprintf("a pending file renames %s", refName))
			default:
				d.Rules = append(d.Rules, r)
			}
		}
		d.Unchecked = append(d.Unchecked, unchecked...)
		for oid, modes := range obs.modes {
			// Only live tables: one the live database lacks (or an index, a sequence) has no
			// rows and no sessions there.
			if name, existed := live.tables[oid]; existed {
				d.Locks = append(d.Locks, Lock{File: mig.File, Table: name, Mode: strongest(modes), Modes: modes, Waits: obs.waits[oid]})
			}
		}
		before = after
	}
	sortLocks(d.Locks)
	d.Took = time.Since(start)
	return d, nil
}

// observer runs each statement of a file on the scratch database and records the table locks
// it takes. A transactional file's statements run inside its transaction, where the locks stay
// until COMMIT: each is read after its statement. A no-transaction file's statement runs in a
// transaction of its own for the same reading (pglock.InOwnTransaction); one PostgreSQL refuses
// there (the CONCURRENTLY forms) runs as it is, and the tables whose catalog it changed are
// recorded with SHARE UPDATE EXCLUSIVE, the mode those forms take, and as waiting for every
// transaction on them.
type observer struct {
	conn    *pgx.Conn
	history string
	modes   map[uint32][]string // table oid -> every mode taken there
	waits   map[uint32]bool
	// opaque says why a procedure's writes could not be seen (empty: they could).
	opaque string
}

func (o *observer) Statement(ctx context.Context, s migrate.ObservedStatement, exec func(context.Context) error) error {
	err := o.statement(ctx, s, exec)
	if err == nil && s.Tag.String() == "DO" {
		o.procedureWrites(ctx, s)
	}
	return err
}

func (o *observer) statement(ctx context.Context, s migrate.ObservedStatement, exec func(context.Context) error) error {
	var held map[pglock.Held]bool
	var err error
	if s.InTransaction {
		if err = exec(ctx); err == nil {
			held, err = pglock.Own(ctx, o.conn)
		}
	} else {
		held, err = pglock.InOwnTransaction(ctx, o.conn, exec)
	}
	if !errors.Is(err, pglock.ErrNotInTransactionBlock) {
		for h := range held {
			o.hold(h.Relation, h.Mode)
		}
		return err
	}
	before, err := readCatalog(ctx, o.conn, o.history)
	if err != nil {
		return err
	}
	if err := exec(ctx); err != nil {
		return err
	}
	after, err := readCatalog(ctx, o.conn, o.history)
	if err != nil {
		return err
	}
	for _, oid := range changedTables(before, after) {
		o.hold(oid, "ShareUpdateExclusiveLock")
		o.waits[oid] = true
	}
	return nil
}

func (o *observer) FileDone(context.Context, migrate.Migration, error) {}

// procedureRows is how many rows per table the procedures' pass generates.
const procedureRows = 3

// procedureWrites runs a DO block again, over a few generated rows (the dataset package's), in a
// transaction it rolls back: a procedure's loops run over the rows of the tables it reads, and
// on the scratch database's empty tables they run zero times, so the first run wrote nothing
// the triggers could see. Here they run; the triggers' sequences keep what they wrote even when
// the block then fails (a COMMIT inside it, a check of its own refusing the generated rows).
func (o *observer) procedureWrites(ctx context.Context, s migrate.ObservedStatement) {
	begin, end := "BEGIN", "ROLLBACK"
	if s.InTransaction {
		begin, end = "SAVEPOINT carthub_preflight_procedure", "ROLLBACK TO SAVEPOINT carthub_preflight_procedure"
	}
	if _, err := o.conn.Exec(ctx, begin); err != nil {
		o.opaque = err.Error()
		return
	}
	defer func() { _, _ = o.conn.Exec(context.WithoutCancel(ctx), end) }()
	// The generated rows' own COPY is not a write of the procedure's (see watchWrites).
	if _, err := o.conn.Exec(ctx, "SET LOCAL carthub.preflight_filling = 'on'"); err != nil {
		o.opaque = err.Error()
		return
	}
	if _, err := dataset.Fill(ctx, o.conn, o.history, procedureRows); err != nil {
		o.opaque = "generated rows do not fit the tables: " + err.Error()
		return
	}
	if _, err := o.conn.Exec(ctx, "SET LOCAL carthub.preflight_filling = 'off'"); err != nil {
		o.opaque = err.Error()
		return
	}
	_, _ = o.conn.Exec(ctx, s.Statement.SQL, pgx.QueryExecModeSimpleProtocol) // its error says nothing here
}

func (o *observer) hold(oid uint32, mode string) {
	if !slices.Contains(o.modes[oid], mode) {
		o.modes[oid] = append(o.modes[oid], mode)
	}
}

// strongest is the strongest of modes.
func strongest(modes []string) string {
	var out string
	for _, m := range modes {
		out = pglock.Stronger(out, m)
	}
	return out
}

// changedTables are the tables whose columns, constraints or indexes differ.
func changedTables(before, after *catalog) []uint32 {
	changed := map[uint32]bool{}
	for k, c := range after.columns {
		if b, ok := before.columns[k]; !ok || b != c {
			changed[k.table] = true
		}
	}
	for k := range before.columns {
		if _, ok := after.columns[k]; !ok {
			changed[k.table] = true
		}
	}
	objects := func(c *catalog) map[uint32]uint32 { // constraint or index oid -> its table
		out := maps.Clone(c.indexTable)
		for oid, con := range c.constraints {
			out[oid] = con.table
		}
		return out
	}
	was, is := objects(before), objects(after)
	for oid, table := range is {
		if _, ok := was[oid]; !ok {
			changed[table] = true
		}
	}
	for oid, table := range was {
		if _, ok := is[oid]; !ok {
			changed[table] = true
		}
	}
	return slices.Collect(maps.Keys(changed))
}

func sortLocks(ls []Lock) {
	sort.Slice(ls, func(i, j int) bool { return ls[i].File+" "+ls[i].Table < ls[j].File+" "+ls[j].Table })
}

// watchWrites puts a statement-level trigger on every live table of the scratch database that
// advances a sequence of that table on each INSERT, UPDATE, DELETE or TRUNCATE. On tables without
// rows a statement-level trigger still fires, and a sequence does not roll back, so a write is
// seen even in a transaction that fails or is rolled back (the procedures' pass, procedureWrites,
// which sets carthub.preflight_filling while it loads its generated rows).
func watchWrites(ctx context.Context, conn *pgx.Conn, c *catalog) error {
	sql := `CREATE FUNCTION carthub_preflight_write() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN
  IF current_setting('carthub.preflight_filling', true) IS DISTINCT FROM 'on' THEN
    PERFORM nextval(format('carthub_preflight_w_%s', TG_RELID));
  END IF;
  RETURN NULL;
END $$;`
	for oid, name := range c.tables {
		sql += fmt.Sprintf("\nCREATE SEQUENCE carthub_preflight_w_%d;\nCREATE TRIGGER carthub_preflight_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION carthub_preflight_write();",
			oid, ident(name))
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pre-flight: watch the scratch tables for writes: %w", err)
	}
	return nil
}

// writes counts, per watched table, the statements that wrote it so far.
func writes(ctx context.Context, conn *pgx.Conn) (map[uint32]int64, error) {
	rows, err := conn.Query(ctx, `SELECT substr(sequencename, length('carthub_preflight_w_') + 1)::oid, coalesce(last_value, 0)
  FROM pg_sequences WHERE schemaname = current_schema() AND sequencename LIKE 'carthub\_preflight\_w\_%'`)
	if err != nil {
		return nil, fmt.Errorf("pre-flight: read the scratch writes: %w", err)
	}
	out := map[uint32]int64{}
	var (
		oid uint32
		n   int64
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &n}, func() error { out[oid] = n; return nil })
	return out, err
}

// writtenSince lists the tables whose count grew from before to now.
func writtenSince(before, now map[uint32]int64) []uint32 {
	var out []uint32
	for oid, n := range now {
		if n > before[oid] {
			out = append(out, oid)
		}
	}
	return out
}
