package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// Tool is one migrator under test: how to run `up` against a database.
type Tool struct {
	Name string
	Up   func(url string) *exec.Cmd
}

// Peers writes our migrations in each peer's format under dir and returns the tools. The SQL is
// the same; where a peer runs a whole file in one (implicit) transaction, a no-transaction file
// becomes one migration per statement, since CREATE INDEX CONCURRENTLY and COMMIT inside DO need
// a statement of their own.
func Peers(migs []migrate.Migration, dir, toolDir, ours string) ([]Tool, error) {
	gooseDir, migrateDir, ternDir := filepath.Join(dir, "goose"), filepath.Join(dir, "golang-migrate"), filepath.Join(dir, "tern")
	for _, d := range []string{gooseDir, migrateDir, ternDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	seq := 0
	for _, m := range migs {
		// goose: one file per migration; statements delimited explicitly.
		var g strings.Builder
		g.WriteString("-- +goose Up\n")
		if m.NoTransaction {
			g.WriteString("-- +goose NO TRANSACTION\n")
		}
		for _, st := range m.Up {
			fmt.Fprintf(&g, "-- +goose StatementBegin\n%s;\n-- +goose StatementEnd\n", st.SQL)
		}
		if err := os.WriteFile(filepath.Join(gooseDir, m.File), []byte(g.String()), 0o644); err != nil {
			return nil, err
		}
		pieces := [][]sqlscript.Statement{m.Up}
		if m.NoTransaction {
			pieces = nil
			for _, st := range m.Up {
				pieces = append(pieces, []sqlscript.Statement{st})
			}
		}
		for i, p := range pieces {
			seq++
			var sql strings.Builder
			for _, st := range p {
				sql.WriteString(st.SQL + ";\n")
			}
			name := fmt.Sprintf("%s_%d", m.Name, i+1)
			if err := os.WriteFile(filepath.Join(migrateDir, fmt.Sprintf("%04d_%s.up.sql", seq, name)), []byte(sql.String()), 0o644); err != nil {
				return nil, err
			}
			tern := sql.String()
			if m.NoTransaction {
				tern = "---- tern: disable-tx ----\n" + tern
			}
			if err := os.WriteFile(filepath.Join(ternDir, fmt.Sprintf("%04d_%s.sql", seq, name)), []byte(tern), 0o644); err != nil {
				return nil, err
			}
		}
	}
	bin := func(name string) string { return filepath.Join(toolDir, name) }
	return []Tool{
		{Name: "carthub-migrator", Up: func(url string) *exec.Cmd {
			c := exec.Command(ours, "up", "--log-level", "warn")
			c.Env = append(os.Environ(), "DATABASE_URL="+url)
			return c
		}},
		{Name: "goose", Up: func(url string) *exec.Cmd {
			return exec.Command(bin("goose"), "-dir", gooseDir, "postgres", url, "up")
		}},
		{Name: "golang-migrate", Up: func(url string) *exec.Cmd {
			return exec.Command(bin("migrate"), "-path", migrateDir, "-database", strings.Replace(url, "postgres://", "pgx5://", 1), "up")
		}},
		{Name: "tern", Up: func(url string) *exec.Cmd {
			return exec.Command(bin("tern"), "migrate", "-m", ternDir, "--conn-string", url)
		}},
	}, nil
}

// Time runs a fresh command from mk n times and returns how long each took, wall clock,
// process start included (that is what a deploy waits for).
func Time(ctx context.Context, n int, mk func() *exec.Cmd) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < n; i++ {
		cmd := mk()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
		}
		out = append(out, time.Since(start))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return out, nil
}
