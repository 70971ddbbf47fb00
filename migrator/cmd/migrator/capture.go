package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/carthub/carthub-db/migrator/internal/corpus"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
)

// captureHeader opens a corpus file that capture-queries writes from nothing.
const captureHeader = `The statements the application runs, as pg_stat_statements shows them (literals as $1, $2, ...).
migrator lint runs each one before and after every migration; migrator capture-queries merges
what production runs into this file.`

func cmdCaptureQueries(ctx context.Context, a *app, args []string) error {
	var (
		out   string
		limit int
	)
	flags := a.flags("capture-queries", "[--out FILE] [flags]", "Read the statements the application runs from pg_stat_statements on a live database (read-only: statement\n"+
		"texts and call counts, never a row) and merge them into the corpus migrator lint runs: each statement once,\n"+
		"already normalized ($1, $2 for literals), comments removed, a text still holding a constant left out, its call count as a comment. The extension must be preloaded and\n"+
		"created (CREATE EXTENSION IF NOT EXISTS pg_stat_statements, once, as the RDS master user).", true)
	flags.stringVar(&out, "out", "MIGRATOR_CAPTURE_OUT", "", "the corpus file to merge into (default: queries.sql in --dir, else migrations/queries.sql)")
	flags.intVar(&limit, "limit", "MIGRATOR_CAPTURE_LIMIT", 200, "at most this many statements, the most called first")
	if err := flags.parseFlags(args); err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join("migrations", "queries.sql")
		if a.dir != "" {
			out = filepath.Join(a.dir, "queries.sql")
		}
	}
	var have []corpus.Query
	header := captureHeader
	if b, err := os.ReadFile(out); err == nil {
		if have, err = corpus.Parse(out, string(b)); err != nil {
			return usagef("%v: fix the file, or write to another with --out", err)
		}
		header = leadingComment(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return usagef("--out %s: %v", out, err)
	}
	conn, _, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	got, err := corpus.Capture(ctx, conn, migrate.DefaultHistoryTable, limit)
	if err != nil {
		return err
	}
	if got.Hidden > 0 {
		a.log.WarnContext(ctx, "some statements' texts are hidden from this role: grant it pg_read_all_stats, or capture as the application's role",
			"hidden", got.Hidden)
	}
	if got.LeftOut > 0 {
		a.log.WarnContext(ctx, "some statements' texts still held a constant (stored before pg_stat_statements could normalize them, or ORDER BY 1, a type modifier): they are left out",
			"left_out", got.LeftOut)
	}
	merged := corpus.Merge(have, got.Queries)
	if err := os.WriteFile(out, []byte(corpus.Format(header, merged)), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	a.summary = fmt.Sprintf("capture-queries: %d statement(s) read, %d new, %d in %s", len(got.Queries), len(merged)-len(have), len(merged), out)
	fmt.Fprintln(a.stdout, a.summary)
	return nil
}

// leadingComment is the block of comment lines a corpus file starts with, kept as it is.
func leadingComment(text string) string {
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if len(line) < 2 || line[:2] != "--" {
			break
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
