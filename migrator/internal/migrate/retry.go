// Retries after lock_timeout: how often, and the pause between them.

package migrate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// retryOnLockTimeout runs attempt until it succeeds, fails for another reason, or has hit
// lock_timeout LockRetries+1 times. Giving up the lock queue and coming back later keeps live
// traffic from piling up behind a waiting ALTER.
func (m *Migrator) retryOnLockTimeout(ctx context.Context, mig Migration, attempt func() error) error {
	for n := 0; ; n++ {
		err := attempt()
		if err == nil || !isLockTimeout(err) || ctx.Err() != nil {
			return err
		}
		if n >= m.opts.LockRetries {
			return fmt.Errorf("gave up after %d lock timeouts; the tables are busy with long transactions, "+
				"find them in pg_stat_activity or run again later: %w", n+1, err)
		}
		if mig.NoTransaction {
			// A CREATE INDEX CONCURRENTLY that timed out leaves an INVALID index; IF NOT EXISTS would
			// then skip the rebuild, so drop it before trying again.
			if err := m.dropInvalidIndexes(ctx); err != nil {
				return err
			}
		}
		wait := m.backoff(n)
		m.opts.Logger.WarnContext(ctx, "lock_timeout: another transaction holds a lock this migration needs; retrying",
			"version", mig.Version, "name", mig.Name, "attempt", n+1, "retry_in_ms", wait.Milliseconds())
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// backoff is the pause before retry n (0-based) after a lock_timeout: exponential, capped at
// 30s, with full jitter so that retries of several migrators do not line up.
func (m *Migrator) backoff(n int) time.Duration {
	d := m.opts.RetryBackoff << min(n, 6)
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
