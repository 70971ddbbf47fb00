package lint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/dataset"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/jackc/pgx/v5"
)

// datasetVersion changes whenever fill makes different rows, so that no template of the old
// dataset is reused.
const datasetVersion = "3"

// TemplateKey names the state lint starts a run of opts in: the migrations below opts.From,
// applied, and the dataset of opts.Rows rows loaded. Two runs with the same key start from the
// same database, so the second may copy it from a template instead of loading it again (as
// pgtestdb does). "" when there is nothing to keep (linting from 0001: no table exists before it).
func TemplateKey(opts Options, serverVersion string) string {
	if opts.From <= 1 {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "dataset %s\nrows %d\nserver %s\n", datasetVersion, opts.Rows, serverVersion)
	if opts.Shape != nil {
		b, _ := json.Marshal(opts.Shape)
		fmt.Fprintf(h, "shape %x\nfraction %g\n", sha256.Sum256(b), opts.Fraction)
	}
	for _, mig := range opts.Engine.Migrations[:opts.From-1] {
		fmt.Fprintf(h, "%s %s\n", mig.File, mig.Checksum)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Prepare brings the empty database connect opens to where a run of opts starts: the migrations
// below opts.From applied, their tables filled. Run on a copy of it skips both. The notes say
// what the dataset could not fill.
func Prepare(ctx context.Context, connect Connector, opts Options) (time.Duration, []string, error) {
	start := time.Now()
	conn, err := connect(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := applyBelow(ctx, conn, opts); err != nil {
		return 0, nil, err
	}
	filled, err := dataset.Load(ctx, conn, historyTable(opts), opts.plan())
	if err != nil {
		return 0, nil, err
	}
	var notes []string
	for _, n := range filled.Notes {
		notes = append(notes, n.String())
	}
	return time.Since(start), notes, nil
}

// applyBelow returns the engine lint applies files with (no lock waits or retries: the scratch
// database has no other session), having applied the migrations below opts.From (a no-op where
// they are, as in a copy of a template).
func applyBelow(ctx context.Context, conn *pgx.Conn, opts Options) (*migrate.Migrator, error) {
	m, err := migrate.New(conn, opts.Engine.Alone(opts.Logger))
	if err != nil {
		return nil, err
	}
	if opts.From > 1 {
		if _, err := m.Up(ctx, migrate.UpPlan{Target: opts.From - 1, Verify: migrate.VerifyNever, PostDeploy: true}, migrate.Hooks{}); err != nil {
			return nil, fmt.Errorf("apply the migrations below --from %d: %w", opts.From, err)
		}
	}
	return m, nil
}

// historyTable is the migrator's history table, which lint leaves out of what it measures.
func historyTable(opts Options) string { return opts.Engine.History() }
