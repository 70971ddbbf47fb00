package main

import (
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// The migration Job's pod, evaluated by the Pod Security code the API server's admission runs,
// meets restricted at the namespace's pinned version in every enforce mode; and the check can
// fail: a pod without the restricted settings is rejected.
func TestPodSecurityAdmission(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, enforce := range []string{"", "restricted"} {
		env := map[string]string{}
		if enforce != "" {
			env["CARTHUB_POD_SECURITY_ENFORCE"] = enforce
		}
		out, err := synth(t, env, "--config", filepath.Join("testdata", "default.config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		o := decode(t, out)
		labels := o.namespaces[0].Labels
		for _, mode := range []string{"enforce", "audit", "warn"} {
			level, err := psapi.ParseLevel(labels["pod-security.kubernetes.io/"+mode])
			if err != nil {
				t.Fatalf("%s level: %v", mode, err)
			}
			version, err := psapi.ParseVersion(labels["pod-security.kubernetes.io/"+mode+"-version"])
			if err != nil {
				t.Fatalf("%s version: %v", mode, err)
			}
			pod := o.jobs[0].Spec.Template
			for _, lv := range []psapi.LevelVersion{{Level: level, Version: version}, {Level: psapi.LevelRestricted, Version: version}} {
				if r := policy.AggregateCheckResults(evaluator.EvaluatePod(lv, &pod.ObjectMeta, &pod.Spec)); !r.Allowed {
					t.Errorf("enforce %q, %s %s: the Job's pod is rejected: %s", enforce, mode, lv, r.ForbiddenDetail())
				}
			}
		}
		if enforce == "restricted" && labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("CARTHUB_POD_SECURITY_ENFORCE=restricted did not switch the namespace: %v", labels)
		}
	}
	// A pod stripped of the restricted settings is rejected at restricted, allowed at baseline.
	out, _ := synth(t, nil, "--config", filepath.Join("testdata", "default.config.yaml"))
	pod := decode(t, out).jobs[0].Spec.Template
	pod.Spec.SecurityContext = nil
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{}
	v135 := psapi.MajorMinorVersion(1, 35)
	if r := policy.AggregateCheckResults(evaluator.EvaluatePod(psapi.LevelVersion{Level: psapi.LevelRestricted, Version: v135}, &pod.ObjectMeta, &pod.Spec)); r.Allowed {
		t.Error("a pod without the restricted settings passed restricted")
	}
	if r := policy.AggregateCheckResults(evaluator.EvaluatePod(psapi.LevelVersion{Level: psapi.LevelBaseline, Version: v135}, &pod.ObjectMeta, &pod.Spec)); !r.Allowed {
		t.Errorf("the same pod fails baseline: %s", r.ForbiddenDetail())
	}
}

// The Job's deadline covers the longest the migrator may wait: connecting, a busy instance, the
// snapshot, the lock, and the statement timeout. The Job sets each of them, so the sum is known.
func TestJobBudgetAddsUp(t *testing.T) {
	out, err := synth(t, nil, "--config", filepath.Join("testdata", "secret.config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	job := decode(t, out).jobs[0]
	c := job.Spec.Template.Spec.Containers[0]
	var sum time.Duration
	for _, name := range []string{"MIGRATOR_CONNECT_TIMEOUT", "MIGRATOR_INSTANCE_WAIT", "MIGRATOR_SNAPSHOT_TIMEOUT", "MIGRATOR_LOCK_WAIT", "MIGRATOR_STATEMENT_TIMEOUT"} {
		v := envValue(c, name)
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("%s = %q: the Job must set it (a duration) so that its budget is known", name, v)
		}
		sum += d
	}
	deadline := time.Duration(*job.Spec.ActiveDeadlineSeconds) * time.Second
	if sum > deadline {
		t.Errorf("the migrator may wait %v but the Job's deadline is %v", sum, deadline)
	}
}
