// Package reachability predicts which connections a set of NetworkPolicies allows, with
// cyclonus's model of the NetworkPolicy semantics (github.com/mattfenwick/cyclonus, not ours).
// k8s-synth's truth table asks it about the policies it writes; the real node's test
// (infra/pipeline, TestNetworkPoliciesOnARealNode) asks it the same questions it puts to the
// policy engine there, and compares the answers.
package reachability

import (
	"bytes"
	"fmt"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// Peer is one end of a connection: a pod when Namespace is set, otherwise an address outside
// the cluster's pods.
type Peer struct {
	IP        string
	Namespace string            // the pod's; its only label is kubernetes.io/metadata.name, as the API server sets it
	Labels    map[string]string // the pod's
}

// Model is cyclonus's reading of a set of NetworkPolicies.
type Model struct{ policy *matcher.Policy }

// New reads policies (which New does not keep).
func New(policies []networkingv1.NetworkPolicy) *Model {
	var netpols []*networkingv1.NetworkPolicy
	for i := range policies {
		p := policies[i].DeepCopy()
		netpols = append(netpols, p)
	}
	return &Model{policy: matcher.BuildNetworkPolicies(false, netpols)}
}

// Allowed reports whether the policies let from open a connection to port on to, over proto
// (TCP, UDP or SCTP).
func (m *Model) Allowed(from, to Peer, proto string, port int) bool {
	return m.policy.IsTrafficAllowed(&matcher.Traffic{Source: from.traffic(), Destination: to.traffic(),
		Protocol: corev1.Protocol(proto), ResolvedPort: port}).IsAllowed()
}

func (p Peer) traffic() *matcher.TrafficPeer {
	t := &matcher.TrafficPeer{IP: p.IP}
	if p.Namespace != "" {
		t.Internal = &matcher.InternalPeer{Namespace: p.Namespace, PodLabels: p.Labels,
			NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": p.Namespace}}
	}
	return t
}

// Decode reads the NetworkPolicies of a YAML stream, such as the network-policies.yaml that
// make k8s writes; documents of other kinds are left out.
func Decode(stream []byte) ([]networkingv1.NetworkPolicy, error) {
	var out []networkingv1.NetworkPolicy
	for i, doc := range bytes.Split(stream, []byte("\n---\n")) {
		var head struct{ Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if head.Kind != "NetworkPolicy" {
			continue
		}
		var p networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict(doc, &p); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}
