package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/carthub/carthub-db/migrator/internal/dataset"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
)

func cmdShape(ctx context.Context, a *app, args []string) error {
	var out string
	flags := a.flags("shape", "[--out FILE] [flags]", "Read the shape of a live database's tables from its planner statistics (pg_class.reltuples; pg_stats'\n"+
		"null_frac, avg_width and n_distinct; never a value of a row) and write it as JSON, for `migrator lint --shape`,\n"+
		"which then generates a dataset of that shape at --shape-fraction of its size. Run ANALYZE first on a database\n"+
		"whose statistics are old.", true)
	flags.stringVar(&out, "out", "MIGRATOR_SHAPE_OUT", "", "the file to write (default: standard output)")
	if err := flags.parseFlags(args); err != nil {
		return err
	}
	conn, _, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	s, err := dataset.ReadShape(ctx, conn, migrate.DefaultHistoryTable)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if out == "" {
		_, err = a.stdout.Write(b)
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return usagef("--out %s: %v", out, err)
	}
	a.log.InfoContext(ctx, "shape written", "file", out, "tables", len(s.Tables), "source", s.Source)
	fmt.Fprintf(a.stdout, "wrote the shape of %d table(s) of %s to %s\n", len(s.Tables), s.Source, out)
	return nil
}
