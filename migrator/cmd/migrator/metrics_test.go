package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
	"github.com/carthub/carthub-db/names"
)

// Every run of up, down or verify ends with one line in CloudWatch Embedded Metric Format, for
// success, no-op and failure alike, valid by the format's rules and free of secrets.
func TestRunEndsWithEmbeddedMetrics(t *testing.T) {
	url := pgtest.NewDB(t)
	env := map[string]string{"DATABASE_URL": url, "MIGRATOR_ENVIRONMENT": "dev"}
	first := cli(t, env, "up")
	noop := cli(t, env, "up")
	pgtest.Exec(t, url, "DROP INDEX idx_orders_open_status")
	failed := cli(t, env, "verify")
	for _, tt := range []struct {
		name    string
		r       result
		command string
		exit    float64
		applied float64
	}{{"success", first, "up", 0, 5}, {"no-op", noop, "up", 0, 0}, {"failure", failed, "verify", 5, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			lines := strings.Split(strings.TrimSpace(tt.r.stderr), "\n")
			last := lines[len(lines)-1]
			var doc map[string]any
			if err := json.Unmarshal([]byte(last), &doc); err != nil {
				t.Fatalf("the last line is not JSON: %v\n%s", err, last)
			}
			checkEMF(t, doc)
			if doc["Command"] != tt.command || doc["Environment"] != "dev" || doc["ExitCode"] != tt.exit || doc["MigrationsApplied"] != tt.applied {
				t.Errorf("metrics line = %s", last)
			}
			if pw, _ := mustParseURL(t, url).User.Password(); strings.Contains(last, pw) {
				t.Error("the metrics line carries the password")
			}
		})
	}
}

// checkEMF applies the Embedded Metric Format's rules: _aws with an integer Timestamp and
// CloudWatchMetrics directives, each with a Namespace, Dimensions naming top-level string
// members, and Metrics naming top-level numbers.
func checkEMF(t *testing.T, doc map[string]any) {
	t.Helper()
	aws, ok := doc["_aws"].(map[string]any)
	if !ok {
		t.Fatal("no _aws member")
	}
	if ts, ok := aws["Timestamp"].(float64); !ok || ts != float64(int64(ts)) || ts < 1e12 {
		t.Errorf("_aws.Timestamp = %v, want milliseconds since the epoch", aws["Timestamp"])
	}
	directives, ok := aws["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		t.Fatal("no CloudWatchMetrics directive")
	}
	for _, d := range directives {
		dir := d.(map[string]any)
		if dir["Namespace"] != names.MetricNamespace {
			t.Errorf("Namespace = %v, want %s (the alarms' namespace)", dir["Namespace"], names.MetricNamespace)
		}
		if got := fmt.Sprint(dir["Dimensions"]); got != fmt.Sprint([]any{names.MetricDimensions}) {
			t.Errorf("Dimensions = %s, want [%v] (the alarms' dimensions)", got, names.MetricDimensions)
		}
		for _, set := range dir["Dimensions"].([]any) {
			for _, name := range set.([]any) {
				if _, ok := doc[name.(string)].(string); !ok {
					t.Errorf("dimension %v is not a top-level string", name)
				}
			}
		}
		for _, m := range dir["Metrics"].([]any) {
			name := m.(map[string]any)["Name"].(string)
			if _, ok := doc[name].(float64); !ok {
				t.Errorf("metric %s is not a top-level number", name)
			}
		}
	}
}
