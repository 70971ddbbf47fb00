// Command devdb runs the throwaway local PostgreSQL that `make run` migrates: start prints its
// URL, url prints it again, stop shuts it down, remove stops it and deletes its data. Data lives in
// --dir (default .data/pg), or where the server's user can reach it when that is closed to it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/carthub/carthub-db/migrator/internal/pgserver"
)

func main() {
	fs := flag.NewFlagSet("devdb", flag.ContinueOnError)
	dir := fs.String("dir", ".data/pg", "where the server keeps its data")
	db := fs.String("db", "carthub", "database to create and print the URL of")
	var settings []string
	fs.Func("set", "start: a server setting NAME=VALUE, repeatable (the cluster tests' server listens on the node's bridge with its own certificate and pg_hba.conf)", func(v string) error {
		settings = append(settings, v)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "Usage: devdb [--dir DIR] [--db NAME] [--set NAME=VALUE]... start|url|stop|remove")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil || fs.NArg() != 1 {
		fs.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), fs.Arg(0), *dir, *db, settings); err != nil {
		fmt.Fprintln(os.Stderr, "devdb:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd, dir, db string, settings []string) error {
	switch cmd {
	case "start":
		srv, ok := pgserver.Running(ctx, dir)
		if !ok {
			var err error
			if srv, err = pgserver.Start(ctx, pgserver.Options{Dir: dir, Detach: true, Settings: settings}); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "devdb: PostgreSQL started on 127.0.0.1:%d (data in %s; stop with `make stop-db`, remove with `make clean`)\n", srv.Port, srv.Files)
		}
		if err := srv.CreateDatabase(ctx, db); err != nil {
			return err
		}
		fmt.Println(srv.URL(db))
	case "url":
		srv, ok := pgserver.Running(ctx, dir)
		if !ok {
			return fmt.Errorf("no local PostgreSQL is running in %s: run `make run` first", dir)
		}
		fmt.Println(srv.URL(db))
	case "stop":
		srv, ok := pgserver.Running(ctx, dir)
		if !ok {
			return nil
		}
		return srv.Stop()
	case "remove":
		return pgserver.Remove(ctx, dir)
	default:
		return fmt.Errorf("unknown command %q: use start, url, stop or remove", cmd)
	}
	return nil
}
