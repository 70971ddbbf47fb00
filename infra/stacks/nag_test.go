package stacks

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// cdk-nag's AwsSolutions pack finds no unsuppressed error in any stack of either environment.
func TestCdkNagAwsSolutions(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		a := appFor(t, env)
		for _, s := range a.Stacks() {
			t.Run(env+"/"+*s.StackName(), func(t *testing.T) {
				template(s) // synthesizes, which runs the aspects
				errs := assertions.Annotations_FromStack(s).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
				for _, e := range *errs {
					var finding struct {
						ID    string `json:"id"`
						Entry struct {
							Data any `json:"data"`
						} `json:"entry"`
					}
					b, _ := json.Marshal(e)
					_ = json.Unmarshal(b, &finding)
					t.Errorf("unsuppressed finding on %s: %v", finding.ID, finding.Entry.Data)
				}
			})
		}
	}
}

// The check above can fail: the same wiring reports an unencrypted, unlogged bucket.
func TestCdkNagCatchesAnInsecureResource(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Insecure"), nil)
	awss3.NewBucket(stack, jsii.String("Bucket"), &awss3.BucketProps{})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	assertions.Template_FromStack(stack, nil)
	errs := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-S1")))
	if len(*errs) == 0 {
		t.Error("cdk-nag did not report an S3 bucket without access logs")
	}
}
