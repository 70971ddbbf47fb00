package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
)

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func cmdStatus(ctx context.Context, a *app, args []string) error {
	var exitCode bool
	flags := a.flags("status", "[flags]", "List every migration: applied (when, by whom, checksum), adopted, pending, or changed\n"+
		"since it was applied. Exit 5 on drift; with --exit-code, exit 7 when migrations are pending.", true)
	flags.BoolVar(&exitCode, "exit-code", false, "exit with code 7 when migrations are pending")
	if err := flags.parseFlags(args); err != nil {
		return err
	}
	s, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer closeConn(s.conn)
	m, t := s.m, s.target
	st, checkErr := m.Check(ctx)
	var drift *migrate.DriftError
	if checkErr != nil && !errors.As(checkErr, &drift) {
		return checkErr
	}
	applied := map[int]migrate.Applied{}
	for _, r := range st.Applied {
		applied[r.Version] = r
	}
	state := "up to date"
	switch {
	case !st.HistoryExists:
		state = "never migrated (no history table)"
		if present, diffs, err := m.Legacy(ctx); err == nil && present {
			state = "legacy schema without history: `up` will adopt it"
			if len(diffs) > 0 {
				state = fmt.Sprintf("tables differ from the legacy baseline in %d places: `up` will refuse", len(diffs))
			}
		}
	case len(st.Pending) > 0 && len(st.Partial) > 0:
		state = fmt.Sprintf("%d pending, of which %04d_%s is partly applied: `up` resumes it", len(st.Pending), st.Partial[0].Version, st.Partial[0].Name)
	case len(st.Pending) > 0:
		state = fmt.Sprintf("%d pending", len(st.Pending))
	case st.VerifyFailed() != "":
		state = "VERIFY FAILED after the last run: `up` verifies again; run `migrator verify` for the differences"
	}
	fmt.Fprintf(a.stdout, "Database: %s\nVersion:  %04d of %04d (%s)\n", t.Display, st.Current(), m.Latest(), state)
	if a.awsSettings.instance != "" {
		fmt.Fprintf(a.stdout, "Restore point: %s\n", a.restorePoint(ctx))
	}
	fmt.Fprintln(a.stdout)
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tNAME\tSTATUS\tAPPLIED AT (UTC)\tTOOK\tCHECKSUM\tAPPLIED BY")
	partial := map[int]migrate.Applied{}
	for _, r := range st.Partial {
		partial[r.Version] = r
	}
	for _, mig := range m.Migrations() {
		r, ok := applied[mig.Version]
		p, isPartial := partial[mig.Version]
		switch {
		case !ok && isPartial:
			why := "then: " + firstLine(p.Error)
			if p.Error == "" {
				// Recorded ahead of the next statement: the run died in it (kill -9, OOM, a failover).
				why = fmt.Sprintf("the run stopped in statement %d (killed or cut off)", p.StatementsDone+1)
			}
			fmt.Fprintf(w, "%04d\t%s\tPARTIAL: %d of %d statements ran, %s\t%s\t%s\t%.12s\t%s\n", mig.Version, mig.Name,
				p.StatementsDone, len(mig.Up), why, p.AppliedAt.UTC().Format("2006-01-02 15:04:05"),
				p.Duration.Round(time.Millisecond), p.Checksum, p.AppliedBy)
		case !ok && mig.PostDeploy:
			fmt.Fprintf(w, "%04d\t%s\tpending, post-deploy: waits for the rollout (up --post-deploy)\t-\t-\t%.12s\t-\n", mig.Version, mig.Name, mig.Checksum)
		case !ok:
			fmt.Fprintf(w, "%04d\t%s\tpending\t-\t-\t%.12s\t-\n", mig.Version, mig.Name, mig.Checksum)
		default:
			status := r.Kind
			if r.Phase == migrate.PhasePostDeploy {
				status += " (post-deploy)"
			}
			if r.Checksum != mig.Checksum {
				status = "CHANGED"
			}
			fmt.Fprintf(w, "%04d\t%s\t%s\t%s\t%s\t%.12s\t%s\n", mig.Version, mig.Name, status,
				r.AppliedAt.UTC().Format("2006-01-02 15:04:05"), r.Duration.Round(time.Millisecond), r.Checksum, r.AppliedBy)
		}
	}
	for _, r := range st.Applied {
		if r.Version > m.Latest() {
			fmt.Fprintf(w, "%04d\t%s\tUNKNOWN\t%s\t%s\t%.12s\t%s\n", r.Version, r.Name,
				r.AppliedAt.UTC().Format("2006-01-02 15:04:05"), r.Duration.Round(time.Millisecond), r.Checksum, r.AppliedBy)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(st.Partial) > 0 {
		fmt.Fprintln(a.stdout, "\nA PARTIAL file's statements before the one it stopped in are live; `up` resumes at that one.")
	}
	if checkErr != nil {
		return checkErr
	}
	if exitCode && (len(st.Pending) > 0 || !st.HistoryExists) {
		return &pendingError{n: len(st.Pending)}
	}
	return nil
}
