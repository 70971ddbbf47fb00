package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/carthub/carthub-db/migrations"
	"github.com/carthub/carthub-db/migrator/internal/corpus"
)

// Queries are the application's statements by name, from migrations/queries.sql: the workload
// runs the statements that migrator lint proves every migration keeps working.
var Queries = applicationQueries()

// workloadQueries are the names the workload and ExplainQueries run.
var workloadQueries = []string{"cart_by_customer", "customer_orders", "order_items", "open_orders", "upsert_cart_item",
	"update_quantity", "checkout_order", "checkout_items", "checkout_empty_cart"}

func applicationQueries() map[string]string {
	qs, err := corpus.Parse("migrations/queries.sql", migrations.Queries)
	if err != nil {
		panic(err)
	}
	out := map[string]string{}
	for _, q := range qs {
		out[q.Name] = q.SQL
	}
	for _, name := range workloadQueries {
		if out[name] == "" {
			panic("migrations/queries.sql has no statement named " + name + ": the workload runs it")
		}
	}
	return out
}

// Sample is one workload transaction.
type Sample struct {
	At      time.Time
	Latency time.Duration
	Failed  bool
}

// Workload drives cart traffic at a fixed rate (open loop: latency counts from the scheduled
// start, so a stall shows up in full) until ctx ends.
type Workload struct {
	Pool    *pgxpool.Pool
	Rate    int // transactions per second
	Carts   int
	mu      sync.Mutex
	samples []Sample
	errs    map[string]int
	replans int
}

// isPlanChange reports "cached plan must not change result type".
func isPlanChange(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "0A000"
}

// Replans counts transactions retried once after a cached plan went stale.
func (w *Workload) Replans() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.replans
}

// NewWorkload connects a pool whose sessions behave like the services': a 5 s statement
// timeout (a request timeout), no lock_timeout.
func NewWorkload(ctx context.Context, url string, rate, carts int) (*Workload, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 48
	cfg.ConnConfig.RuntimeParams["application_name"] = "cart-workload"
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "5000"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Workload{Pool: pool, Rate: rate, Carts: carts, errs: map[string]int{}}, nil
}

// Run sends transactions until ctx is done and waits for those in flight.
func (w *Workload) Run(ctx context.Context) {
	interval := time.Second / time.Duration(w.Rate)
	next := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for ctx.Err() == nil {
		scheduled := next
		next = next.Add(interval)
		if d := time.Until(scheduled); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := w.one(context.WithoutCancel(ctx))
			replanned := isPlanChange(err)
			if replanned {
				// A column type changed under a cached prepared statement (0002 turns the
				// timestamps into timestamptz). Well-behaved services retry this once; pgx has
				// already dropped the stale statement.
				err = w.one(context.WithoutCancel(ctx))
			}
			w.mu.Lock()
			if replanned {
				w.replans++
			}
			w.samples = append(w.samples, Sample{At: scheduled, Latency: time.Since(scheduled), Failed: err != nil})
			if err != nil {
				w.errs[err.Error()]++
			}
			w.mu.Unlock()
		}()
	}
	wg.Wait()
}

// one runs a transaction of the mix: 40% cart lookup, 30% add to cart, 20% order history, 10% checkout.
func (w *Workload) one(ctx context.Context) error {
	c := 1 + rand.IntN(max(w.Carts, 1))
	cust := customer(c)
	switch r := rand.IntN(10); {
	case r < 4:
		rows, err := w.Pool.Query(ctx, Queries["cart_by_customer"], cust)
		if err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	case r < 7:
		_, err := w.Pool.Exec(ctx, Queries["upsert_cart_item"], c, fmt.Sprintf("sku-%05d", rand.IntN(50000)))
		return err
	case r < 9:
		rows, err := w.Pool.Query(ctx, Queries["customer_orders"], cust)
		if err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	default:
		return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
			var id int64
			if err := tx.QueryRow(ctx, Queries["checkout_order"], cust, c).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, Queries["checkout_items"], id, c); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, Queries["checkout_empty_cart"], c)
			return err
		})
	}
}

// Between returns the latencies of transactions scheduled in [from, to), and how many failed.
func (w *Workload) Between(from, to time.Time) (lat []time.Duration, failed int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.samples {
		if !s.At.Before(from) && s.At.Before(to) {
			lat = append(lat, s.Latency)
			if s.Failed {
				failed++
			}
		}
	}
	return lat, failed
}

// Errors are the distinct failure messages with counts.
func (w *Workload) Errors() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for k, v := range w.errs {
		out[k] = v
	}
	return out
}

// WatchLockWaits polls pg_stat_activity and returns the longest time a workload statement was
// seen waiting for a lock (10 ms resolution), when ctx ends.
func WatchLockWaits(ctx context.Context, url string) (max time.Duration) {
	conn, err := pgx.Connect(context.WithoutCancel(ctx), url)
	if err != nil {
		return -1
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for ctx.Err() == nil {
		var ms float64
		_ = conn.QueryRow(ctx, `SELECT coalesce(max(extract(epoch FROM clock_timestamp() - query_start) * 1000), 0)
  FROM pg_stat_activity WHERE application_name = 'cart-workload' AND wait_event_type = 'Lock'`).Scan(&ms)
		if d := time.Duration(ms * float64(time.Millisecond)); d > max {
			max = d
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	return max
}
