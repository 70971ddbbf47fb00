package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/carthub/carthub-db/names"
)

// metricsNamespace is where the run metrics land in CloudWatch.
const metricsNamespace = names.MetricNamespace

// runMetrics collects what the final metrics line reports.
type runMetrics struct {
	command string
	started time.Time
	stepMs  map[string]float64 // durations of the steps, by name ("lock", "snapshot", ...)
	applied int
	// waiting counts the pending post-deploy files the run left for the rollout;
	// postDeployApplied the post-deploy files it applied.
	waiting, postDeployApplied int
	// blocking is how many sessions the pre-flight found in the way of the pending files' locks;
	// oldestBlocking the longest of their transactions.
	blocking       int
	oldestBlocking time.Duration
}

// emitMetrics writes the run's outcome as one line in CloudWatch Embedded Metric Format: with
// the container's logs shipped to CloudWatch Logs, the line becomes metrics (duration, migrations
// applied, exit code, lock wait, snapshot duration; dimensions environment and command) with no
// agent code here. Only the commands that work on a database report, and only in JSON logs.
func (a *app) emitMetrics(code int) {
	if a.log == nil || !a.jsonLogs || a.metrics.started.IsZero() {
		return
	}
	env := a.getenv("MIGRATOR_ENVIRONMENT")
	if env == "" {
		env = "unknown"
	}
	metric := func(name, unit string) map[string]string { return map[string]string{"Name": name, "Unit": unit} }
	line := map[string]any{
		"time":  time.Now().UTC().Format(time.RFC3339Nano),
		"level": "INFO",
		"msg":   "run metrics",
		"_aws": map[string]any{
			"Timestamp": time.Now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  metricsNamespace,
				"Dimensions": [][]string{names.MetricDimensions}, // the alarms in infra read these
				"Metrics": []any{metric("Duration", "Milliseconds"), metric("MigrationsApplied", "Count"), metric("ExitCode", "None"),
					metric("LockWait", "Milliseconds"), metric("SnapshotDuration", "Milliseconds"),
					metric("PostDeployWaiting", "Count"), metric("PostDeployApplied", "Count"), metric("Preflight", "Milliseconds"),
					metric("BlockingSessions", "Count"), metric("OldestBlockingTransaction", "Seconds")},
			}},
		},
		names.MetricDimensions[0]:   env,
		names.MetricDimensions[1]:   a.metrics.command,
		"Duration":                  float64(time.Since(a.metrics.started).Microseconds()) / 1000,
		"MigrationsApplied":         a.metrics.applied,
		"ExitCode":                  code,
		"LockWait":                  a.metrics.stepMs["lock"],
		"SnapshotDuration":          a.metrics.stepMs["snapshot"],
		"PostDeployWaiting":         a.metrics.waiting,
		"PostDeployApplied":         a.metrics.postDeployApplied,
		"Preflight":                 a.metrics.stepMs["preflight"],
		"BlockingSessions":          a.metrics.blocking,
		"OldestBlockingTransaction": a.metrics.oldestBlocking.Seconds(),
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	fmt.Fprintln(a.stderr, a.redactor.String(string(b)))
}
