// Package charts is k8s-synth's cdk8s app: one Chart per output file (the namespace, the
// migration Job, the NetworkPolicies), each Kubernetes object an ApiObject whose body is the
// typed k8s.io/api object the manifests package builds, so the compiler still checks every field
// and the construct tree decides only where and how it is written.
package charts

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"

	"github.com/carthub/carthub-db/k8s-synth/manifests"
)

// Chart ids, which are also the files' names (namespace.yaml, ...).
const (
	NamespaceChart = "namespace"
	JobChart       = "migration-job"
	PoliciesChart  = "network-policies"
)

// Charts are the three charts of one configuration.
type Charts struct {
	Namespace, Job, Policies cdk8s.Chart
}

// commonLabels mark every object of every chart.
var commonLabels = map[string]*string{"app.kubernetes.io/part-of": jsii.String("carthub")}

// New adds the three charts for m to scope (a cdk8s App). A chart with no objects (the Job chart
// of Bootstrap) is not added.
func New(scope constructs.Construct, namespace string, m manifests.Manifests) (Charts, error) {
	var c Charts
	var err error
	if c.Namespace, err = chart(scope, NamespaceChart, "", m.Namespace); err != nil {
		return c, err
	}
	if len(m.Job) > 0 {
		if c.Job, err = chart(scope, JobChart, namespace, m.Job); err != nil {
			return c, err
		}
	}
	if c.Policies, err = chart(scope, PoliciesChart, namespace, m.Policies); err != nil {
		return c, err
	}
	return c, nil
}

func chart(scope constructs.Construct, id, namespace string, objects []any) (cdk8s.Chart, error) {
	props := &cdk8s.ChartProps{Labels: &commonLabels}
	if namespace != "" {
		props.Namespace = jsii.String(namespace)
	}
	ch := cdk8s.NewChart(scope, jsii.String(id), props)
	for _, o := range objects {
		if err := apiObject(ch, o); err != nil {
			return nil, fmt.Errorf("chart %s: %w", id, err)
		}
	}
	return ch, nil
}

// apiObject adds a typed object to chart: apiVersion, kind and metadata as the ApiObject's props,
// every other top-level field (spec, ...) as a JSON patch of its body.
func apiObject(chart cdk8s.Chart, obj any) error {
	tree, err := manifests.Tree(obj)
	if err != nil {
		return err
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name        string            `json:"name"`
			Namespace   string            `json:"namespace"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	b, _ := json.Marshal(tree)
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	meta := &cdk8s.ApiObjectMetadata{Name: jsii.String(head.Metadata.Name), Labels: strs(head.Metadata.Labels),
		Annotations: strs(head.Metadata.Annotations)}
	if head.Metadata.Namespace != "" {
		meta.Namespace = jsii.String(head.Metadata.Namespace)
	}
	id := strings.ToLower(head.Kind) + "-" + head.Metadata.Name
	o := cdk8s.NewApiObject(chart, jsii.String(id), &cdk8s.ApiObjectProps{
		ApiVersion: jsii.String(head.APIVersion), Kind: jsii.String(head.Kind), Metadata: meta})
	keys := make([]string, 0, len(tree))
	for k := range tree {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "apiVersion", "kind", "metadata":
			continue
		}
		o.AddJsonPatch(cdk8s.JsonPatch_Add(jsii.String("/"+k), tree[k]))
	}
	return nil
}

func strs(m map[string]string) *map[string]*string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = jsii.String(v)
	}
	return &out
}
