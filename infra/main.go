// Command infra is the AWS CDK app of the Carthub database tier (cdk.json runs it). Choose the
// environment with -c env=dev|prod; account and region come from -c account=/region=, else
// CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION, else the environment's entry in cdk.json.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/carthub/carthub-db/infra/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil) // honours CDK_OUTDIR, set by the CDK CLI
	if _, err := stacks.NewApp(app); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(2)
	}
	app.Synth(nil)
}
