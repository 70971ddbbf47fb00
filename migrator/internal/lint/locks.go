package lint

import (
	"context"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/pglock"
	"github.com/jackc/pgx/v5"
)

// tableLocks names the locks that are on tables of the schema, by the catalog after the
// statement or, for a table it dropped, before it.
func tableLocks(held map[pglock.Held]bool, after, before *catalogState, hold time.Duration) []Lock {
	var out []Lock
	for k := range held {
		if name, ok := after.tableName(k.Relation, before); ok {
			out = append(out, Lock{Table: name, Mode: k.Mode, Hold: hold})
		}
	}
	sortLocks(out)
	return out
}

// lockPoll watches the relation locks of a backend from the monitor session.
type lockPoll struct {
	cancel context.CancelFunc
	done   chan map[pglock.Held]bool
}

func (l *linter) pollLocks(ctx context.Context, pid uint32) *lockPoll {
	ctx, cancel := context.WithCancel(ctx)
	p := &lockPoll{cancel: cancel, done: make(chan map[pglock.Held]bool, 1)}
	go func() {
		seen := map[pglock.Held]bool{}
		defer func() { p.done <- seen }()
		for {
			rows, err := l.monitor.Query(context.WithoutCancel(ctx), pglock.RelationLocks, int32(pid))
			if err == nil {
				var k pglock.Held
				_, _ = pgx.ForEachRow(rows, []any{&k.Relation, &k.Mode}, func() error { seen[k] = true; return nil })
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return p
}

func (p *lockPoll) stop() map[pglock.Held]bool {
	p.cancel()
	return <-p.done
}
