// Down: the applied files above a version reverted, newest first, through their down parts.

package migrate

import (
	"context"
	"fmt"
	"time"
)

// Down reverts the applied migrations above target, newest first, under the lock, and drops the
// INVALID indexes an interrupted concurrent operation of a down part leaves. It refuses before
// changing anything when one of them has no down part. With dryRun it only returns the files
// it would revert.
func (m *Migrator) Down(ctx context.Context, target int, dryRun bool, h Hooks) ([]AppliedMigration, error) {
	h.fill()
	m.observer = h.Observer
	defer func() { m.observer = nil }()
	start := time.Now()
	release, err := m.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	h.Step(ctx, "lock", start)
	st, err := m.Check(ctx)
	if err != nil {
		return nil, err
	}
	todo, err := m.revertible(st, target)
	if err != nil || dryRun {
		out := make([]AppliedMigration, len(todo))
		for i, mig := range todo {
			out[i] = AppliedMigration{Migration: mig}
		}
		return out, err
	}
	start = time.Now()
	done, err := m.runAll(ctx, todo, true)
	// A down part interrupted in a concurrent index operation leaves an INVALID index behind,
	// as an up part can: clean up either way.
	if cerr := m.dropInvalidIndexes(ctx); cerr != nil && err == nil {
		err = cerr
	}
	if err == nil {
		h.Step(ctx, "revert", start, "reverted", len(done), "version", target)
	}
	return done, err
}

// revertible lists the applied migrations above target, newest first, and refuses when one of
// them has no down part.
func (m *Migrator) revertible(st State, target int) ([]Migration, error) {
	var todo []Migration
	for i := len(st.Applied) - 1; i >= 0; i-- {
		a := st.Applied[i]
		if a.Version <= target {
			break
		}
		mig := m.opts.Migrations[a.Version-1]
		if !mig.HasDown {
			return nil, fmt.Errorf("%s has no down part (no %q line), so the database cannot go below version %04d; nothing was reverted",
				mig.File, DirectiveDown, mig.Version)
		}
		todo = append(todo, mig)
	}
	return todo, nil
}
