package dataset_test

import (
	"context"
	"testing"
	"time"

	"github.com/carthub/carthub-db/migrations"
	"github.com/carthub/carthub-db/migrator/internal/dataset"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

// BenchmarkLoadCarthub loads lint's default dataset, 200,000 rows into each of the four Carthub
// tables after every migration (issue 30's cold lint): go test -run '^$' -bench LoadCarthub.
func BenchmarkLoadCarthub(b *testing.B) {
	ctx := context.Background()
	migs, err := migrate.Load(migrations.FS)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		conn := pgtest.Connect(b, pgtest.NewDB(b))
		m, err := migrate.New(conn, migrate.Options{Migrations: migs, Baseline: schema.Snapshot{}, Tables: []string{}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Up(ctx, migrate.UpPlan{Target: len(migs), Verify: migrate.VerifyNever, PostDeploy: true}, migrate.Hooks{}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		loaded, err := dataset.FillPlan(ctx, conn, migrate.DefaultHistoryTable, dataset.Plan{Rows: 200000})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %v in %v", loaded, time.Since(start).Round(time.Millisecond))
	}
}
