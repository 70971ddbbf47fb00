package lint_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/lint"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// realSchema holds what real schemas hold, and one type the dataset cannot know (a composite).
const realSchema = `CREATE TYPE order_priority AS ENUM ('low', 'normal', 'high');
CREATE DOMAIN positive_money AS numeric(12,2) CHECK (VALUE > 0);
CREATE TYPE money_pair AS (amount numeric, currency text);
CREATE TABLE shops (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region text NOT NULL,
    code text NOT NULL,
    UNIQUE (region, code)
);
CREATE TABLE deliveries (
    id bigserial PRIMARY KEY,
    region text NOT NULL,
    code text NOT NULL,
    priority order_priority NOT NULL,
    price positive_money NOT NULL,
    tags text[] NOT NULL DEFAULT '{}',
    doc jsonb,
    token uuid NOT NULL,
    client inet,
    network cidr,
    during tstzrange,
    blob bytea,
    ratio numeric(5,2) CHECK (ratio >= 0 AND ratio <= 100),
    status text NOT NULL CHECK (status IN ('new', 'sent', 'done')),
    label varchar(40) CHECK (length(label) BETWEEN 3 AND 20),
    total numeric GENERATED ALWAYS AS (price * 2) STORED,
    extra money_pair,
    FOREIGN KEY (region, code) REFERENCES shops (region, code),
    EXCLUDE USING gist (during WITH &&)
);
CREATE UNIQUE INDEX deliveries_one_open_per_token ON deliveries (token) WHERE status <> 'done';
CREATE TABLE strict_pairs (id int PRIMARY KEY, pair money_pair NOT NULL);
`

// Lint starts on any schema: the dataset fills what it can from the catalog, leaves the rest
// NULL or short and says so, and lints the file.
func TestLintOnARealSchema(t *testing.T) {
	files := fstest.MapFS{
		"0001_schema.sql": {Data: []byte(realSchema)},
		"0002_note.sql":   {Data: []byte("ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS note text;\n")},
	}
	migs, err := migrate.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	url := pgtest.NewDB(t)
	connect := func(ctx context.Context) (*pgx.Conn, error) { return pgx.Connect(ctx, url) }
	rep, err := lint.Run(context.Background(), connect, lint.Options{
		From: 2, Rows: 2000, MaxLockHold: time.Second, MaxBlock: testMaxBlock,
		Engine: migrate.Options{Migrations: migs},
	})
	if err != nil {
		t.Fatalf("lint did not start on the schema: %v", err)
	}
	f := rep.Files[0]
	if f.Error != "" || rep.Failed != 0 {
		t.Errorf("the file did not lint: %s, %d failed\n%s", f.Error, rep.Failed, text(t, rep))
	}
	for _, table := range []string{"shops", "deliveries"} {
		if f.Loaded[table] == 0 {
			t.Errorf("%s got no rows: %v\n%s", table, f.Loaded, text(t, rep))
		}
	}
	out := text(t, rep)
	for _, want := range []string{"strict_pairs", "extra"} { // the composite type: short of rows, and NULL
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say what the dataset could not fill (%s):\n%s", want, out)
		}
	}
}
