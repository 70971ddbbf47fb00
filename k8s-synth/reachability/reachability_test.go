package reachability

import (
	"os"
	"testing"
)

// Decode keeps the NetworkPolicies of a stream of every kind (the golden stream: a header
// comment, the Namespace, the Job's objects, the policies), and the model reads them.
func TestDecodeKeepsThePoliciesOnly(t *testing.T) {
	stream, err := os.ReadFile("../testdata/default.k8s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	policies, err := Decode(stream)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range policies {
		names = append(names, p.Name)
	}
	if len(policies) != 7 || names[0] != "default-deny-all" {
		t.Fatalf("decoded %d policies %v, want the stream's 7, default-deny-all first", len(policies), names)
	}
	m := New(policies)
	pod := Peer{IP: "10.20.10.9", Namespace: "shopping-cart"}
	if m.Allowed(pod, Peer{IP: "203.0.113.9"}, "TCP", 443) {
		t.Error("a pod of shopping-cart reaches the internet through default-deny-all")
	}
	if !m.Allowed(pod, Peer{IP: "10.20.10.2", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}}, "UDP", 53) {
		t.Error("a pod of shopping-cart cannot look names up (allow-dns)")
	}
}
