// Command bench measures carthub-migrator against goose, golang-migrate and tern, and the
// effect of its migrations on live cart traffic, on a throwaway PostgreSQL (`make bench`).
// It writes bench/results/latest.json, latest.md and a dated copy.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrations"
	"github.com/carthub/carthub-db/migrator/bench/internal/bench"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgserver"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	scaleDefault := 1.0
	if v := os.Getenv("BENCH_SCALE"); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || s <= 0 || s > 1 {
			return fmt.Errorf("BENCH_SCALE=%q: a number in (0, 1]", v)
		}
		scaleDefault = s
	}
	out := flag.String("out", "bench/results", "where the report goes")
	scale := flag.Float64("scale", scaleDefault, "dataset size, 1 = 1M carts and 1M orders [BENCH_SCALE]")
	tools := flag.String("tools", ".data/bench-tools", "where goose, migrate and tern are installed")
	ours := flag.String("migrator", "bin/migrator", "the migrator binary")
	pgxFloor := flag.String("floor", ".data/bench-tools/pgxfloor", "the floor's binary (bench/cmd/pgxfloor: pgx connect, select 1)")
	noopRuns := flag.Int("noop-runs", 60, "repetitions of each no-op run and floor")
	fullRuns := flag.Int("full-runs", 9, "repetitions of each full apply")
	rate := flag.Int("rate", 200, "workload transactions per second")
	warm := flag.Duration("warm", 10*time.Second, "workload time before the migration starts")
	lockTimeout := flag.Duration("lock-timeout", 2*time.Second, "the migrator's lock_timeout in the online run")
	lintRuns := flag.Int("lint-runs", 3, "repetitions of `migrator lint` over the migrations at its default size")
	peersOnly := flag.Bool("peers-only", false, "measure against the peers and stop (no dataset, no workload, no report files)")
	flag.Parse()
	ctx := context.Background()
	started := time.Now()

	tmp, err := os.MkdirTemp("", "carthub-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	_ = os.Chmod(tmp, 0o755) // the server runs as postgres when we are root
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(tmp, "pg")})
	if err != nil {
		return err
	}
	defer srv.Stop()
	admin, err := pgx.Connect(ctx, srv.URL("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	newDB := func(name string) (string, error) {
		_, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		if err == nil {
			_, err = admin.Exec(ctx, "CREATE DATABASE "+name)
		}
		return srv.URL(name), err
	}
	report := map[string]any{"generated_at": started.UTC().Format(time.RFC3339), "scale": *scale}
	report["machine"] = machine(ctx, admin)
	log := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }

	// 1. Floors and peers, the no-op runs round robin.
	floorURL, err := newDB("floor")
	if err != nil {
		return err
	}
	if _, err := os.Stat(*pgxFloor); err != nil {
		return fmt.Errorf("the pgx floor's binary: %w (make bench builds it: go build -o %s ./bench/cmd/pgxfloor)", err, *pgxFloor)
	}
	psql, err := exec.LookPath("psql") // the machine's client: the npm server builds ship none
	if err != nil {
		return fmt.Errorf("the psql floor needs psql on PATH (make postgres installs Debian's): %w", err)
	}
	// The floors run in the no-op round robin below, beside every tool: the no-op's ratio to
	// the pgx floor compares runs made in the same seconds of a shared machine.
	floors := []bench.Tool{
		{Name: "pgx_select1_ms", Up: func(string) *exec.Cmd { return exec.Command(*pgxFloor, floorURL) }},
		{Name: "psql_select1_ms", Up: func(string) *exec.Cmd { return exec.Command(psql, floorURL, "-qAtc", "select 1") }},
	}

	migs, err := migrate.Load(migrations.FS)
	if err != nil {
		return err
	}
	peers, err := bench.Peers(migs, filepath.Join(tmp, "peers"), *tools, *ours)
	if err != nil {
		return err
	}
	expected, _ := schema.Parse(migrations.ExpectedSchema)
	// Round robin: run i of every tool, then run i+1, so that the machine's noise (a shared,
	// 2-core host) falls on every tool alike instead of on whichever ran during a busy spell.
	full := map[string][]time.Duration{}
	noop := map[string][]time.Duration{}
	urls := map[string]string{}
	for i := 0; i < *fullRuns; i++ {
		for _, tool := range peers {
			url, err := newDB(strings.ReplaceAll(tool.Name, "-", "_") + "_" + strconv.Itoa(i))
			if err != nil {
				return err
			}
			d, err := bench.Time(ctx, 1, func() *exec.Cmd { return tool.Up(url) })
			if err != nil {
				return err
			}
			full[tool.Name] = append(full[tool.Name], d...)
			urls[tool.Name] = url
		}
	}
	for i := 0; i < *noopRuns; i++ {
		for _, tool := range append(slices.Clone(floors), peers...) {
			d, err := bench.Time(ctx, 1, func() *exec.Cmd { return tool.Up(urls[tool.Name]) })
			if err != nil {
				return err
			}
			noop[tool.Name] = append(noop[tool.Name], d...)
		}
	}
	floor := map[string]bench.Stats{"pgx_select1_ms": bench.Summarise(noop["pgx_select1_ms"]), "psql_select1_ms": bench.Summarise(noop["psql_select1_ms"])}
	report["floor"] = floor
	log("floor: pgx %.2f ms, psql %.2f ms", floor["pgx_select1_ms"].Median, floor["psql_select1_ms"].Median)
	toolStats := map[string]map[string]any{}
	for _, tool := range peers {
		matches, err := schemaMatches(ctx, urls[tool.Name], expected)
		if err != nil {
			return err
		}
		toolStats[tool.Name] = map[string]any{"full_ms": bench.Summarise(full[tool.Name]), "noop_ms": bench.Summarise(noop[tool.Name]), "schema_matches": matches}
		log("%s: full %.1f ms, no-op %.2f ms", tool.Name, bench.Summarise(full[tool.Name]).Median, bench.Summarise(noop[tool.Name]).Median)
	}
	report["tools"] = toolStats
	ourNoop := toolStats["carthub-migrator"]["noop_ms"].(bench.Stats).Median
	fastestPeer, fastestName := 0.0, ""
	for name, s := range toolStats {
		if name == "carthub-migrator" {
			continue
		}
		if m := s["noop_ms"].(bench.Stats).Median; fastestName == "" || m < fastestPeer {
			fastestPeer, fastestName = m, name
		}
	}
	ourFull := toolStats["carthub-migrator"]["full_ms"].(bench.Stats).Median
	fastestFull, fastestFullName := 0.0, ""
	for name, s := range toolStats {
		if m := s["full_ms"].(bench.Stats).Median; name != "carthub-migrator" && (fastestFullName == "" || m < fastestFull) {
			fastestFull, fastestFullName = m, name
		}
	}
	report["ratios"] = map[string]any{
		"full_vs_fastest_peer":    bench.Round(ourFull / fastestFull),
		"fastest_full_apply_peer": fastestFullName,
		"noop_vs_pgx_floor":       bench.Round(ourNoop / floor["pgx_select1_ms"].Median),
		"noop_vs_psql_floor":      bench.Round(ourNoop / floor["psql_select1_ms"].Median),
		"noop_vs_fastest_peer":    bench.Round(ourNoop / fastestPeer),
		"fastest_peer":            fastestName,
	}

	if *peersOnly {
		log("full apply vs fastest peer (%s): %.2f; no-op vs pgx floor: %.2f", fastestFullName, ourFull/fastestFull, ourNoop/floor["pgx_select1_ms"].Median)
		return nil
	}

	// 2. Online safety: load, then migrate under a fixed-rate cart workload, carefully and naively.
	d := bench.DatasetAt(*scale)
	carefulURL, err := newDB("online_careful")
	if err != nil {
		return err
	}
	if out, err := exec.Command(*ours, "up", "--to", "1", "--log-level", "warn", "--database-url", carefulURL).CombinedOutput(); err != nil {
		return fmt.Errorf("baseline: %v\n%s", err, out)
	}
	// The legacy service's database has no history table: drop ours so the careful run adopts.
	conn, err := pgx.Connect(ctx, carefulURL)
	if err != nil {
		return err
	}
	loadStart := time.Now()
	rows, err := bench.Load(ctx, conn, d)
	loadS := time.Since(loadStart).Seconds()
	if err == nil {
		_, err = conn.Exec(ctx, "DROP TABLE carthub_schema_history")
	}
	conn.Close(ctx)
	if err != nil {
		return err
	}
	report["load"] = map[string]any{"rows": rows, "seconds": bench.Round(loadS), "rows_per_s": int(float64(rows) / loadS),
		"carts": d.Carts, "orders": d.Orders}
	log("loaded %d rows in %.1f s (%.0f rows/s)", rows, loadS, float64(rows)/loadS)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS online_naive WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE online_naive TEMPLATE online_careful"); err != nil {
		return err
	}
	naiveURL := srv.URL("online_naive")
	// The copy leaves gigabytes of dirty pages; flush them now, or the kernel writes them back in
	// the middle of the measured run and the workload pays for the copy, not the migration.
	settle := func() error {
		if _, err := admin.Exec(ctx, "CHECKPOINT"); err != nil {
			return err
		}
		syscall.Sync()
		time.Sleep(2 * time.Second)
		return nil
	}
	if err := settle(); err != nil {
		return err
	}

	// The pre-flight's cost for our migrations on this dataset, measured as migrator plan with it
	// (a scratch run of the files, the counts of the rules they add, the sessions) and without
	// it; up pays the same before its lock. Twice: on the loaded legacy database (0002 to 0005
	// pending: 0003's backfill leaves 0004's rules uncounted) and on a copy brought to 0003 (0004
	// and 0005 pending: 0004's sixteen rules counted over the ten million rows).
	preflightCost := func(url string) (map[string]any, error) {
		plan := func(extra ...string) func() *exec.Cmd {
			return func() *exec.Cmd {
				return exec.Command(*ours, append([]string{"plan", "--log-level", "warn", "--database-url", url}, extra...)...)
			}
		}
		with, err := bench.Time(ctx, 3, plan())
		if err != nil {
			return nil, fmt.Errorf("plan with the pre-flight: %w", err)
		}
		without, err := bench.Time(ctx, 3, plan("--preflight=false"))
		if err != nil {
			return nil, fmt.Errorf("plan without the pre-flight: %w", err)
		}
		out, err := plan()().Output()
		if err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
		var found []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "-- pre-flight:") || (len(found) > 0 && strings.HasPrefix(line, "--   ")) {
				found = append(found, line)
			}
		}
		w, wo := bench.Summarise(with), bench.Summarise(without)
		return map[string]any{"plan_with": w, "plan_without": wo, "cost_median": bench.Round(w.Median - wo.Median), "report": found}, nil
	}
	pfLegacy, err := preflightCost(carefulURL)
	if err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS online_preflight WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE online_preflight TEMPLATE online_careful"); err != nil {
		return err
	}
	preflightURL := srv.URL("online_preflight")
	if out, err := exec.Command(*ours, "up", "--to", "3", "--preflight=false", "--verify", "never", "--log-level", "warn", "--database-url", preflightURL).CombinedOutput(); err != nil {
		return fmt.Errorf("bring the pre-flight's copy to 0003: %v\n%s", err, out)
	}
	pfAt3, err := preflightCost(preflightURL)
	if err != nil {
		return err
	}
	// What no exact count can beat: the same rows read once, nothing evaluated.
	if pfAt3["scan_floor_ms"], err = scanFloor(ctx, preflightURL); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "DROP DATABASE online_preflight WITH (FORCE)"); err != nil {
		return err
	}
	report["preflight_ms"] = map[string]any{"legacy_0002_to_0005": pfLegacy, "at_0003_0004_and_0005": pfAt3}
	for name, pf := range map[string]map[string]any{"legacy, 0002-0005 pending": pfLegacy, "at 0003, 0004-0005 pending": pfAt3} {
		log("pre-flight of our migrations on %d rows (%s): %v ms (plan %.0f ms with it, %.0f ms without)", rows, name,
			pf["cost_median"], pf["plan_with"].(bench.Stats).Median, pf["plan_without"].(bench.Stats).Median)
	}
	log("pre-flight's floor, one bare scan of the same rows: %v ms", pfAt3["scan_floor_ms"])

	migrator := func(url string, extra ...string) *exec.Cmd {
		args := append([]string{"up", "--log-level", "warn", "--database-url", url, "--verify", "never"}, extra...)
		return exec.Command(*ours, args...)
	}
	careful, err := bench.Online(ctx, carefulURL, *rate, d.Carts, *warm,
		migrator(carefulURL, "--lock-timeout", lockTimeout.String(), "--lock-retries", "30", "--retry-backoff", "200ms"))
	if err != nil {
		return err
	}
	log("careful: p99 %.1f -> %.1f ms, %d failed, longest lock wait %.0f ms, %.1f s", careful.P99Before, careful.P99During,
		careful.FailedTransactions, careful.MaxLockWaitMs, careful.MigrationS)
	naiveDir := filepath.Join(tmp, "naive")
	baseline, err := fs.ReadFile(migrations.FS, "0001_baseline.sql")
	if err != nil {
		return err
	}
	if err := bench.WriteNaive(naiveDir, baseline, []byte(migrations.BaselineSchema)); err != nil {
		return err
	}
	if err := settle(); err != nil {
		return err
	}
	// Naive: one transaction per file and no lock_timeout to speak of (the migrator refuses 0,
	// which PostgreSQL reads as no limit): it waits for its locks as long as it takes.
	naive, err := bench.Online(ctx, naiveURL, *rate, d.Carts, *warm, migrator(naiveURL, "--dir", naiveDir, "--lock-timeout", "24h"))
	if err == nil && naive.MigrationExitCode == 2 {
		err = errors.New("the naive run's migrator refused its flags (exit 2): the comparison would measure nothing")
	}
	if err != nil {
		return err
	}
	log("naive: p99 %.1f -> %.1f ms, %d failed, longest lock wait %.0f ms, %.1f s", naive.P99Before, naive.P99During,
		naive.FailedTransactions, naive.MaxLockWaitMs, naive.MigrationS)
	report["online"] = map[string]any{"lock_timeout_ms": lockTimeout.Milliseconds(), "rate_tps": *rate, "warm_s": warm.Seconds(),
		"careful": careful, "naive": naive}

	// 3. Queries at full size on the migrated database.
	conn, err = pgx.Connect(ctx, carefulURL)
	if err != nil {
		return err
	}
	queries, err := bench.ExplainQueries(ctx, conn, d.Carts)
	conn.Close(ctx)
	if err != nil {
		return err
	}
	report["queries"] = queries

	// migrator lint over our files at its default size (200k rows per table), on this server.
	lintTimes, err := bench.Time(ctx, *lintRuns, func() *exec.Cmd {
		return exec.Command(*ours, "lint", "--database-url", srv.URL("postgres"), "--format", "json", "--log-level", "warn")
	})
	if err != nil {
		return fmt.Errorf("migrator lint: %w", err)
	}
	lintStats := bench.Summarise(lintTimes)
	report["lint_ms"] = lintStats
	log("lint of %d files: median %.0f ms", len(migs), lintStats.Median)

	// migrator lint of one new file, as a developer runs it: the first run loads the dataset and
	// keeps it as a template in its cache; the later ones (warm) copy it.
	newFile := filepath.Join(tmp, "lint-one-file")
	if err := os.MkdirAll(newFile, 0o755); err != nil {
		return err
	}
	for _, m := range migs {
		if err := os.WriteFile(filepath.Join(newFile, m.File), []byte(m.UpSQL), 0o644); err != nil {
			return err
		}
	}
	next := fmt.Sprintf("%04d_orders_total_amount_index.sql", len(migs)+1)
	if err := os.WriteFile(filepath.Join(newFile, next), []byte("-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_total_amount ON orders (total_amount);\n"), 0o644); err != nil {
		return err
	}
	lintCache := filepath.Join(tmp, "lint-cache")
	lintOne := func() *exec.Cmd {
		return exec.Command(*ours, "lint", "--dir", newFile, "--from", strconv.Itoa(len(migs)+1), "--cache-dir", lintCache, "--format", "json", "--log-level", "warn")
	}
	cold, err := bench.Time(ctx, 1, lintOne)
	if err != nil {
		return fmt.Errorf("migrator lint of one file: %w", err)
	}
	warmRuns, err := bench.Time(ctx, *lintRuns, lintOne)
	if err != nil {
		return fmt.Errorf("migrator lint of one file: %w", err)
	}
	warmStats := bench.Summarise(warmRuns)
	report["lint_one_file_cold_ms"] = bench.Round(float64(cold[0].Microseconds()) / 1000)
	report["lint_one_file_warm_ms"] = warmStats
	log("lint of one new file: cold %.0f ms (loads the dataset, keeps the template), warm median %.0f ms", float64(cold[0].Milliseconds()), warmStats.Median)

	// The image's payload per architecture (the two binaries as the Dockerfile builds them, the
	// CA bundles); make image and podman give the image's size, these bytes plus tar headers.
	images := map[string]float64{}
	for _, arch := range []string{"amd64", "arm64"} {
		n, err := bench.ImagePayload(ctx, ".", arch, "bench", "/etc/ssl/certs/ca-certificates.crt", ".data/rds-global-bundle.pem")
		if err != nil {
			return fmt.Errorf("image payload: %w", err)
		}
		images[arch] = bench.Round(float64(n) / 1e6)
		log("image payload %s: %.2f MB", arch, images[arch])
	}
	report["image_payload_mb"] = images

	allIndexed := true
	for _, q := range queries {
		allIndexed = allIndexed && q.PlanUsesIndex
	}
	// Each figure beside its goal (issue 30's for the no-op, the pre-flight and the cold lint).
	boolFig := func(key, name string, ok bool) bench.Figure {
		v := 0.0
		if ok {
			v = 1
		}
		return bench.Figure{Key: key, Name: name, Value: v, Goal: "true (1)", Holds: ok}
	}
	pfCost := pfAt3["cost_median"].(float64)
	figures := []bench.Figure{
		bench.AtMost("noop_at_most_1.1x_pgx_floor", "no-op `up` / pgx floor (connect + select 1), medians", ourNoop/floor["pgx_select1_ms"].Median, "x", 1.1),
		bench.Below("noop_faster_than_every_peer", "no-op `up` / fastest peer's ("+fastestName+")", ourNoop/fastestPeer, "x", 1),
		bench.Below("full_apply_faster_than_every_peer", "full apply / fastest peer's ("+fastestFullName+")", ourFull/fastestFull, "x", 1),
		bench.Below("preflight_0004_under_750ms", fmt.Sprintf("pre-flight cost, 0004's %d rules over %d rows (plan with it - without, medians)", ruleCount(pfAt3), rows), pfCost, "ms", 750),
		bench.AtMost("careful_zero_failed_transactions", "careful run: failed workload transactions (and the migrator's exit code)", float64(careful.FailedTransactions+careful.MigrationExitCode), "", 0),
		bench.AtMost("careful_lock_wait_within_timeout", "careful run: longest workload lock wait", careful.MaxLockWaitMs, "ms", float64(lockTimeout.Milliseconds())),
		bench.AtMost("careful_p99_at_most_2x_baseline", "careful run: workload p99 during / before", careful.P99During/careful.P99Before, "x", 2),
		boolFig("every_workload_query_uses_an_index", "every workload query's plan uses an index", allIndexed),
		bench.Below("lint_under_a_minute", "lint of every file, slowest of the runs", lintStats.Max, "ms", 60_000),
		bench.Below("lint_one_new_file_cold_under_4s", "lint of one new file, cold (loads the dataset)", report["lint_one_file_cold_ms"].(float64), "ms", 4_000),
		bench.Below("lint_one_new_file_warm_under_5s", "lint of one new file, warm (template), slowest of the runs", warmStats.Max, "ms", 5_000),
		bench.AtMost("image_amd64_at_most_20mb", "image payload, amd64 (two binaries, CA bundles)", images["amd64"], "MB", 20),
		bench.AtMost("image_arm64_at_most_20mb", "image payload, arm64", images["arm64"], "MB", 20),
	}
	goals := map[string]bool{}
	for _, f := range figures {
		goals[f.Key] = f.Holds
		log("%s: %v %s (goal: %s) %v", f.Name, f.Value, f.Unit, f.Goal, f.Holds)
	}
	report["figures"] = figures
	report["goals"] = goals
	report["duration_s"] = bench.Round(time.Since(started).Seconds())
	return write(*out, report, started)
}

// scanFloor is the median of three reads of every row of the four tables (count(*) per table,
// without JIT as the pre-flight counts): the least an exact count of rules over those rows costs.
func scanFloor(ctx context.Context, url string) (float64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET jit = off"); err != nil {
		return 0, err
	}
	var runs []time.Duration
	for range 3 {
		start := time.Now()
		for _, t := range bench.Tables {
			var n int64
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
				return 0, fmt.Errorf("scan %s: %w", t, err)
			}
		}
		runs = append(runs, time.Since(start))
	}
	return bench.Round(bench.Summarise(runs).Median), nil
}

// ruleCount is how many rules the pre-flight's report says it counted ("-- pre-flight: 16 rule(s) ...").
func ruleCount(pf map[string]any) int {
	n := 0
	if lines := pf["report"].([]string); len(lines) > 0 {
		fmt.Sscanf(lines[0], "-- pre-flight: %d rule(s)", &n)
	}
	return n
}

func schemaMatches(ctx context.Context, url string, expected schema.Snapshot) (bool, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	live, err := schema.Read(ctx, conn, schema.ForSnapshot(expected, migrate.DefaultHistoryTable))
	if err != nil {
		return false, err
	}
	diffs, err := schema.Compare(ctx, conn, expected, live)
	return len(diffs) == 0, err
}

func machine(ctx context.Context, admin *pgx.Conn) map[string]any {
	m := map[string]any{"cores": runtime.NumCPU(), "go": runtime.Version(), "os": runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				m["cpu"] = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		m["memory_gib"] = bench.Round(float64(kb) / 1024 / 1024)
	}
	var v string
	_ = admin.QueryRow(ctx, "SHOW server_version").Scan(&v)
	m["postgres"] = v
	m["postgres_settings"] = "fsync=off, synchronous_commit=off, full_page_writes=off (throwaway server)"
	return m
}

func write(dir string, report map[string]any, at time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return err
	}
	md := markdown(report)
	stamp := at.UTC().Format("20060102T150405Z")
	for name, data := range map[string][]byte{"latest.json": b, "latest.md": []byte(md), stamp + ".json": b} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Print(md)
	return nil
}

func markdown(r map[string]any) string {
	var s strings.Builder
	m := r["machine"].(map[string]any)
	fmt.Fprintf(&s, "# carthub-db benchmark\n\n%s, scale %v; %v cores (%v), %v GiB, PostgreSQL %v (%v).\n\n",
		r["generated_at"], r["scale"], m["cores"], m["cpu"], m["memory_gib"], m["postgres"], m["postgres_settings"])
	if figs, ok := r["figures"].([]bench.Figure); ok {
		fmt.Fprintf(&s, "## Figures and goals\n\n%s\n", bench.Table(figs))
	}
	floor := r["floor"].(map[string]bench.Stats)
	fmt.Fprintf(&s, "## Against peers (wall clock per run, process start included)\n\n| tool | no-op median | min | max | full apply median | min | max | schema as expected |\n|---|---|---|---|---|---|---|---|\n")
	tools := r["tools"].(map[string]map[string]any)
	names := make([]string, 0, len(tools))
	for n := range tools {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := tools[n]
		no, full := t["noop_ms"].(bench.Stats), t["full_ms"].(bench.Stats)
		fmt.Fprintf(&s, "| %s | %.2f ms | %.2f | %.2f | %.1f ms | %.1f | %.1f | %v |\n", n, no.Median, no.Min, no.Max, full.Median, full.Min, full.Max, t["schema_matches"])
	}
	fmt.Fprintf(&s, "| floor: pgx connect + select 1 | %.2f ms | %.2f | %.2f | | | | |\n", floor["pgx_select1_ms"].Median, floor["pgx_select1_ms"].Min, floor["pgx_select1_ms"].Max)
	fmt.Fprintf(&s, "| floor: psql -c 'select 1' | %.2f ms | %.2f | %.2f | | | | |\n\n", floor["psql_select1_ms"].Median, floor["psql_select1_ms"].Min, floor["psql_select1_ms"].Max)
	ratios, _ := json.Marshal(r["ratios"])
	fmt.Fprintf(&s, "Ratios: `%s`\n\n", ratios)
	load := r["load"].(map[string]any)
	fmt.Fprintf(&s, "## Online safety under a cart workload\n\nLoaded %v rows (%v carts, %v orders) through COPY in %v s: %v rows/s.\n\n", load["rows"], load["carts"], load["orders"], load["seconds"], load["rows_per_s"])
	on := r["online"].(map[string]any)
	fmt.Fprintf(&s, "Workload %v tx/s (open loop, 5 s statement timeout); migrator lock_timeout %v ms; lock waits sampled every 10 ms.\n\n"+
		"| run | failed tx during | longest lock wait | p50 before | p99 before | p50 during | p99 during | max during | migration | migrator exit |\n|---|---|---|---|---|---|---|---|---|---|\n", on["rate_tps"], on["lock_timeout_ms"])
	for _, k := range []string{"careful", "naive"} {
		o := on[k].(bench.OnlineResult)
		fmt.Fprintf(&s, "| %s | %d of %d | %.0f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.0f ms | %.1f s | %d |\n", k, o.FailedTransactions, o.Transactions, o.MaxLockWaitMs, o.P50Before, o.P99Before, o.P50During, o.P99During, o.MaxDuring, o.MigrationS, o.MigrationExitCode)
	}
	fmt.Fprintf(&s, "\nTransactions that failed with \"cached plan must not change result type\" (0002 changes the timestamp columns' type under the services' prepared statements), retried once and counted as failed above: careful %d, naive %d. Naive errors: %v\n",
		on["careful"].(bench.OnlineResult).PlanRetries, on["naive"].(bench.OnlineResult).PlanRetries, on["naive"].(bench.OnlineResult).Errors)
	if pfs, ok := r["preflight_ms"].(map[string]any); ok {
		fmt.Fprintf(&s, "\n## Pre-flight\n\n`migrator plan` with the pre-flight and without it (median of 3), on the loaded database; only a run with files to apply pays the difference.\n")
		for _, k := range []string{"legacy_0002_to_0005", "at_0003_0004_and_0005"} {
			pf := pfs[k].(map[string]any)
			with, without := pf["plan_with"].(bench.Stats), pf["plan_without"].(bench.Stats)
			fmt.Fprintf(&s, "\n%s: %.0f ms with it, %.0f ms without: it costs %v ms.\n", k, with.Median, without.Median, pf["cost_median"])
			if floor, ok := pf["scan_floor_ms"]; ok {
				fmt.Fprintf(&s, "Reading the same rows once with nothing evaluated (count(*) of each table, the least an exact count can cost) takes %v ms.\n", floor)
			}
			fmt.Fprintf(&s, "\n```\n%s\n```\n", strings.Join(pf["report"].([]string), "\n"))
		}
	}
	fmt.Fprintf(&s, "\n## Queries at full size\n\n| query | plan uses an index | median |\n|---|---|---|\n")
	q := r["queries"].(map[string]bench.QueryResult)
	qn := make([]string, 0, len(q))
	for n := range q {
		qn = append(qn, n)
	}
	sort.Strings(qn)
	for _, n := range qn {
		fmt.Fprintf(&s, "| %s | %v | %.3f ms |\n", n, q[n].PlanUsesIndex, q[n].MedianMs)
	}
	goals, _ := json.MarshalIndent(r["goals"], "", "  ")
	fmt.Fprintf(&s, "\n## Goals\n\n```json\n%s\n```\n\nWhole run: %v s.\n", goals, r["duration_s"])
	return s.String()
}
