package charts

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"

	"github.com/carthub/carthub-db/k8s-synth/manifests"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// testApp is cdk8s's testing app with its output directory in the test's own temporary
// directory: Testing_App(nil) makes a cdk8s.outdir.* directory under /tmp that nothing removes.
func testApp(t *testing.T) cdk8s.App {
	return cdk8s.Testing_App(&cdk8s.AppProps{Outdir: jsii.String(t.TempDir())})
}

// Each chart holds the objects of its file, in the chart's namespace, with the chart's labels;
// the Bootstrap objects (what the Cluster stack deploys) make the same namespace and policy charts.
func TestChartsHoldTheirFilesObjects(t *testing.T) {
	c := manifests.Config{Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/carthub-database-dev@sha256:" + strings.Repeat("ab", 32),
		VPCCIDR: "10.0.0.0/16", Region: "eu-west-1", SecretARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:carthub/dev/db-credentials-AbCdEf"}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	app := testApp(t)
	charts, err := New(app, c.Namespace, manifests.Build(c))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		chart      cdk8s.Chart
		kinds      string
		namespaced bool
	}{
		{charts.Namespace, "Namespace", false},
		{charts.Job, "ServiceAccount,Job", true},
		{charts.Policies, strings.TrimSuffix(strings.Repeat("NetworkPolicy,", 7), ","), true},
	} {
		var kinds []string
		for _, obj := range *cdk8s.Testing_Synth(tt.chart) {
			o := obj.(map[string]any)
			kinds = append(kinds, o["kind"].(string))
			meta := o["metadata"].(map[string]any)
			if ns, _ := meta["namespace"].(string); tt.namespaced != (ns == "shopping-cart") {
				t.Errorf("%s %v: namespace %q", *tt.chart.Node().Id(), meta["name"], ns)
			}
			if labels, _ := meta["labels"].(map[string]any); labels["app.kubernetes.io/part-of"] != "carthub" {
				t.Errorf("%s %v lacks the chart's labels: %v", *tt.chart.Node().Id(), meta["name"], labels)
			}
		}
		if got := strings.Join(kinds, ","); got != tt.kinds {
			t.Errorf("chart %s holds %s, want %s", *tt.chart.Node().Id(), got, tt.kinds)
		}
	}
	boot, err := manifests.Bootstrap(c)
	if err != nil {
		t.Fatal(err)
	}
	bootCharts, err := New(testApp(t), c.Namespace, boot)
	if err != nil {
		t.Fatal(err)
	}
	if bootCharts.Job != nil {
		t.Error("the bootstrap made a Job chart")
	}
	if len(*cdk8s.Testing_Synth(bootCharts.Policies)) != 7 {
		t.Error("the bootstrap's policy chart differs from the file's")
	}
}
