package main

import (
	"context"
	"fmt"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/dbconn"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
)

func cmdDown(ctx context.Context, a *app, args []string) error {
	var (
		lock lockFlags
		to   int
		yes  bool
	)
	flags := a.flags("down", "--to VERSION --yes [flags]", "Revert the migrations above VERSION, newest first, by running their down parts. Refuses,\n"+
		"before changing anything, when one of them has no down part. Without --yes it only lists them.", true)
	lock.add(flags)
	flags.IntVar(&to, "to", -1, "the version to go back to (required)")
	flags.BoolVar(&yes, "yes", false, "really revert (down parts may drop data)")
	if err := flags.parseFlags(args); err != nil {
		return err
	}
	if to < 0 {
		return usagef("down needs --to VERSION: the version to go back to")
	}
	p, err := a.load()
	if err != nil {
		return err
	}
	if to >= len(p.migrations) {
		return usagef("--to %d: the target must be below the latest version %04d", to, len(p.migrations))
	}
	a.writable = yes
	s, err := a.session(ctx, p, lock)
	if err != nil {
		return err
	}
	defer closeConn(s.conn)
	done, err := s.m.Down(ctx, to, !yes, migrate.Hooks{Step: a.step})
	if err != nil {
		return dbconn.AsLost(err, s.conn.IsClosed())
	}
	if len(done) == 0 {
		fmt.Fprintf(a.stdout, "nothing to revert: the database is at version %04d or below\n", to)
		return nil
	}
	if !yes {
		for _, d := range done {
			fmt.Fprintf(a.stdout, "would revert %s\n", d.File)
		}
		return usagef("refusing to revert without --yes (down parts can drop data); the list above is what would run")
	}
	for _, d := range done {
		fmt.Fprintf(a.stdout, "reverted %s (%s)\n", d.File, d.Took.Round(time.Millisecond))
	}
	a.summary = fmt.Sprintf("reverted %d migration(s), now at version %04d", len(done), to)
	return nil
}
