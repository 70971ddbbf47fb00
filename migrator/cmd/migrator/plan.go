package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/preflight"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

func cmdPlan(ctx context.Context, a *app, args []string) error {
	var (
		to   int
		post bool
		pre  preflightFlags
	)
	flags := a.flags("plan", "[flags]", "Print the SQL that `up` would run against this database, in order, without running it.", true)
	flags.intVar(&to, "to", "MIGRATOR_TARGET", 0, "stop after this version (0: the latest)")
	flags.boolVar(&post, "post-deploy", "MIGRATOR_POST_DEPLOY", false, "include the files marked -- migrator:post-deploy, as up --post-deploy would")
	pre.add(flags, false)
	if err := flags.parseFlags(args); err != nil {
		return err
	}
	if err := pre.validate(); err != nil {
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
	if len(pending) == 0 || !pre.enabled {
		return nil
	}
	res, err := a.runPreflight(ctx, s, &pre, st, pending)
	if err != nil {
		return lostConnection(s, err)
	}
	a.printPreflight(res)
	return nil
}

// printPreflight is plan's account of the pre-flight: each rule the pending files add with the
// live rows that break it, what was not checked, and the sessions in the way of their locks.
func (a *app) printPreflight(res preflightResult) {
	w := a.stdout
	if res.skipped != "" {
		fmt.Fprintf(w, "\n-- pre-flight: nothing to check: %s\n", res.skipped)
		return
	}
	fmt.Fprintf(w, "\n-- pre-flight: %d rule(s) the pending files add, counted on the live rows (scratch run %s):\n", len(res.derived.Rules), res.derived.Took.Round(time.Millisecond))
	broken := map[string]preflight.Violation{}
	for _, v := range res.counted.Broken {
		broken[v.Rule.File+v.Rule.Table+v.Rule.Name+v.Rule.Kind] = v
	}
	timedOut := map[string]bool{}
	for _, t := range res.counted.TimedOut {
		timedOut[t.Rule.File+t.Rule.Table+t.Rule.Name+t.Rule.Kind] = true
	}
	for _, r := range res.derived.Rules {
		key := r.File + r.Table + r.Name + r.Kind
		switch v, bad := broken[key]; {
		case bad:
			fmt.Fprintf(w, "--   REFUSED  %s\n", v)
		case timedOut[key]:
			fmt.Fprintf(w, "--   TIMEOUT  %s: %s %s %s (%s): the count took longer than --preflight-timeout\n", r.File, r.Table, r.Kind, r.Name, r.Def)
		default:
			fmt.Fprintf(w, "--   ok       %s: %s %s %s (%s)\n", r.File, r.Table, r.Kind, r.Name, r.Def)
		}
	}
	for _, u := range res.derived.Unchecked {
		fmt.Fprintf(w, "--   unchecked %s\n", u)
	}
	tables := res.derived.Tables()
	names := make([]string, 0, len(tables))
	for t, l := range tables {
		names = append(names, t+" "+l.Mode)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "-- pre-flight: the pending files lock %s; sessions in the way now: %d\n", strings.Join(names, ", "), len(res.sessions))
	for _, s := range res.sessions {
		fmt.Fprintf(w, "--   %s\n--     (%s)\n", s, s.TerminateCommand())
	}
}
