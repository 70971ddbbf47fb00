package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

func cmdPlan(ctx context.Context, a *app, args []string) error {
	var (
		to   int
		post bool
	)
	flags := a.flags("plan", "[flags]", "Print the SQL that `up` would run against this database, in order, without running it.", true)
	flags.intVar(&to, "to", "MIGRATOR_TARGET", 0, "stop after this version (0: the latest)")
	flags.boolVar(&post, "post-deploy", "MIGRATOR_POST_DEPLOY", false, "include the files marked -- migrator:post-deploy, as up --post-deploy would")
	if err := flags.parseFlags(args); err != nil {
		return err
	}
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer closeConn(s.conn)
	m := s.m
	st, err := m.Check(ctx)
	if err != nil {
		return err
	}
	pending, waiting := st.Runnable(migrate.UpPlan{Target: to, PostDeploy: post})
	if !st.HistoryExists {
		present, diffs, err := m.Legacy(ctx)
		if err != nil {
			return err
		}
		switch {
		case present && len(diffs) > 0:
			return &migrate.AdoptError{Report: schema.Report(diffs)}
		case present:
			fmt.Fprintf(a.stdout, "-- %s: legacy schema found; it would be adopted (recorded as applied, not run)\n\n", pending[0].File)
			pending = pending[1:]
		}
	}
	if len(pending) == 0 {
		fmt.Fprintf(a.stdout, "-- nothing to apply: the database is at version %04d\n", st.Current())
	}
	for _, mig := range pending {
		mode := "in one transaction"
		if mig.NoTransaction {
			mode = "outside a transaction, statement by statement"
		}
		fmt.Fprintf(a.stdout, "-- ==== %s (%s) ====\n%s\n", mig.File, mode, strings.TrimSpace(mig.UpSQL))
	}
	for _, mig := range waiting {
		fmt.Fprintf(a.stdout, "-- %s waits for the application's rollout (-- migrator:post-deploy): up --post-deploy applies it\n", mig.File)
	}
	return nil
}
