package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/carthub/carthub-db/infra/internal/kubetest"
)

const (
	testAccount     = "123456789012"
	testProdAccount = "210987654321"
	testRegion      = "eu-west-1"
	testCopyRegion  = "eu-central-1"
)

// newTestApp builds the whole app for env, as `cdk synth -c env=...` would, with the AZ lookup
// answered from context like cdk.json does.
func newTestApp(t *testing.T, env string, extra map[string]any) *App {
	t.Helper()
	ctx := map[string]any{
		"env": env, "offlineSynth": "true",
		"carthub:environments": map[string]any{
			"dev":  map[string]any{"account": testAccount, "region": testRegion},
			"prod": map[string]any{"account": testProdAccount, "region": testRegion, "backupCopyRegion": testCopyRegion},
		},
		fmt.Sprintf("availability-zones:account=%s:region=%s", testAccount, testRegion):     []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
		fmt.Sprintf("availability-zones:account=%s:region=%s", testProdAccount, testRegion): []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
		// The S3 prefix list prod's Deploy security group admits (cdk.json holds the real lookups).
		s3PrefixListLookup(testProdAccount, testRegion): []any{map[string]any{"PrefixListId": "pl-6da54004"}},
	}
	for k, v := range extra {
		ctx[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir(t))})
	a, err := NewApp(app)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var (
	once      sync.Map // env -> *App, built once per test binary: a synth takes seconds
	templates sync.Map // stack name -> assertions.Template
)

func appFor(t *testing.T, env string) *App {
	t.Helper()
	if a, ok := once.Load(env); ok {
		return a.(*App)
	}
	var extra map[string]any
	if env == "prod" {
		extra = map[string]any{"readReplica": "true"}
	}
	a := newTestApp(t, env, extra)
	once.Store(env, a)
	return a
}

func template(stack awscdk.Stack) assertions.Template {
	name := *stack.StackName()
	if tpl, ok := templates.Load(name); ok {
		return tpl.(assertions.Template)
	}
	tpl := assertions.Template_FromStack(stack, nil)
	templates.Store(name, tpl)
	return tpl
}

// tmp holds the cloud assemblies; apps outlive the test that built them, so not t.TempDir.
var tmp string

func outdir(t *testing.T) string {
	dir, err := os.MkdirTemp(tmp, "cdk.out-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	var err error
	if tmp, err = os.MkdirTemp("", "infra-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	kubetest.Stop()
	jsii.Close()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// resources returns the template's resources of one type, as plain JSON values.
func resources(t *testing.T, tpl assertions.Template, typ string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range *tpl.FindResources(jsii.String(typ), nil) {
		b, _ := json.Marshal(r)
		var v map[string]any
		_ = json.Unmarshal(b, &v)
		out[id] = v
	}
	return out
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

func contains(s any, sub string) bool {
	b, _ := json.Marshal(s)
	return strings.Contains(string(b), sub)
}

// s3PrefixListLookup is the context key of the CDK's lookup of the region's S3 prefix list.
func s3PrefixListLookup(account, region string) string {
	return "cc-api-provider:account=" + account + ":expectedMatchCount=exactly-one:propertiesToReturn.0=PrefixListId:propertyMatch.PrefixListName=com.amazonaws." +
		region + ".s3:region=" + region + ":typeName=AWS$:$:EC2$:$:PrefixList"
}
