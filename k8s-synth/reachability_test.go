package main

import (
	"fmt"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/carthub/carthub-db/k8s-synth/reachability"
)

// reach is one row of the truth table: may from open proto/port to to?
type reach struct {
	from, to string
	proto    corev1.Protocol
	port     int
	allowed  bool
}

// The pods and addresses that matter, for testdata/default.config.yaml.
var peers = map[string]reachability.Peer{
	"migrator":             {IP: "10.20.10.5", Namespace: "shopping-cart"}, // pod labels from the Job
	"backend":              {IP: "10.20.10.6", Namespace: "shopping-cart", Labels: map[string]string{"app": "backend"}},
	"frontend":             {IP: "10.20.10.7", Namespace: "shopping-cart", Labels: map[string]string{"app": "frontend"}},
	"kube-dns":             {IP: "10.20.10.2", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}},
	"database":             {IP: "10.20.96.20"}, // a database subnet
	"aws endpoint":         {IP: "10.20.64.30"}, // an interface endpoint's subnet
	"pod identity agent":   {IP: "169.254.170.23"},
	"elsewhere in the VPC": {IP: "10.20.200.9"},
	"the internet":         {IP: "203.0.113.9"},
	"load balancer":        {IP: "10.20.0.40"},
}

var truthTable = []reach{
	{"migrator", "kube-dns", corev1.ProtocolUDP, 53, true},
	{"migrator", "kube-dns", corev1.ProtocolTCP, 53, true},
	{"migrator", "database", corev1.ProtocolTCP, 5432, true},
	{"migrator", "aws endpoint", corev1.ProtocolTCP, 443, true},
	{"migrator", "pod identity agent", corev1.ProtocolTCP, 80, true},
	{"migrator", "database", corev1.ProtocolTCP, 443, false},
	{"migrator", "aws endpoint", corev1.ProtocolTCP, 5432, false},
	{"migrator", "elsewhere in the VPC", corev1.ProtocolTCP, 443, false},
	{"migrator", "the internet", corev1.ProtocolTCP, 443, false},
	{"migrator", "backend", corev1.ProtocolTCP, 8000, false},
	{"migrator", "kube-dns", corev1.ProtocolTCP, 8080, false},
	{"frontend", "backend", corev1.ProtocolTCP, 8000, true},
	{"frontend", "database", corev1.ProtocolTCP, 5432, false},
	{"backend", "database", corev1.ProtocolTCP, 5432, true},
	{"backend", "the internet", corev1.ProtocolTCP, 443, false},
	{"load balancer", "frontend", corev1.ProtocolTCP, 80, true},
	{"the internet", "frontend", corev1.ProtocolTCP, 80, false},
	{"backend", "migrator", corev1.ProtocolTCP, 8000, false},
	{"frontend", "migrator", corev1.ProtocolTCP, 443, false},
	{"load balancer", "migrator", corev1.ProtocolTCP, 80, false},
}

// violations evaluates the truth table with cyclonus's NetworkPolicy engine (not ours), the
// model the real node's test also compares kube-router with.
func violations(policies []networkingv1.NetworkPolicy, migratorLabels map[string]string) []string {
	model := reachability.New(policies)
	migrator := peers["migrator"]
	migrator.Labels = migratorLabels
	peers["migrator"] = migrator
	var out []string
	for _, r := range truthTable {
		got := model.Allowed(peers[r.from], peers[r.to], string(r.proto), r.port)
		if got != r.allowed {
			out = append(out, fmt.Sprintf("%s -> %s %s/%d allowed=%v, want %v", r.from, r.to, r.proto, r.port, got, r.allowed))
		}
	}
	return out
}

// The synthesized NetworkPolicies give exactly the reachability the system needs, judged by
// cyclonus; removing or widening a policy breaks the table.
func TestNetworkPolicyReachability(t *testing.T) {
	out, err := synth(t, nil, "--config", filepath.Join("testdata", "default.config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, out)
	labels := o.jobs[0].Spec.Template.Labels
	for _, v := range violations(o.policies, labels) {
		t.Error(v)
	}
	mutations := map[string]func([]networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy{
		"without database-migration-egress": func(ps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
			var keep []networkingv1.NetworkPolicy
			for _, p := range ps {
				if p.Name != "database-migration-egress" {
					keep = append(keep, p)
				}
			}
			return keep
		},
		"migrator egress widened to the VPC": func(ps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
			for i := range ps {
				if ps[i].Name == "database-migration-egress" {
					ps[i].Spec.Egress[1].To[0].IPBlock.CIDR = "10.20.0.0/16"
				}
			}
			return ps
		},
		"without default-deny-all": func(ps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
			return ps[1:]
		},
	}
	for name, mutate := range mutations {
		fresh := decode(t, out).policies
		if v := violations(mutate(fresh), labels); len(v) == 0 {
			t.Errorf("%s: the truth table still holds, so it cannot catch that", name)
		}
	}
}
