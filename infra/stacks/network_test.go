package stacks

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestNetwork(t *testing.T) {
	for _, tt := range []struct {
		env       string
		azs       int
		nat       int
		endpoints []string // interface endpoints (the S3 gateway endpoint is always there)
	}{
		// dev: the nodes pull images, get Pod Identity credentials and ship logs through its NAT.
		{"dev", 2, 1, []string{".secretsmanager", ".rds"}},
		{"prod", 3, 3, []string{".secretsmanager", ".ecr.api", ".ecr.dkr", ".logs", ".sts", ".rds", ".eks-auth", ".eks"}},
	} {
		t.Run(tt.env, func(t *testing.T) {
			// GIVEN the environment's app WHEN synthesized
			tpl := template(appFor(t, tt.env).Network.Stack)
			// THEN one VPC with public, private-with-egress and isolated subnets in each AZ
			tpl.ResourceCountIs(jsii.String("AWS::EC2::VPC"), jsii.Number(1))
			tpl.ResourceCountIs(jsii.String("AWS::EC2::Subnet"), jsii.Number(3*tt.azs))
			tpl.ResourceCountIs(jsii.String("AWS::EC2::NatGateway"), jsii.Number(tt.nat))
			for _, kind := range []string{"Public", "Private", "Isolated"} {
				tpl.ResourcePropertiesCountIs(jsii.String("AWS::EC2::Subnet"), &map[string]any{
					"Tags": assertions.Match_ArrayWith(&[]any{map[string]any{"Key": "aws-cdk:subnet-type", "Value": kind}}),
				}, jsii.Number(tt.azs))
			}
			// AND flow logs of refused traffic (what a blocked connection's investigation reads;
			// accepted traffic is nearly all of the volume and the cost)
			tpl.HasResourceProperties(jsii.String("AWS::EC2::FlowLog"), &map[string]any{
				"ResourceType": "VPC", "TrafficType": "REJECT", "LogDestinationType": "cloud-watch-logs"})
			// AND public subnets that give nothing a public IP of its own (NAT gateways have EIPs)
			tpl.ResourcePropertiesCountIs(jsii.String("AWS::EC2::Subnet"), &map[string]any{"MapPublicIpOnLaunch": true}, jsii.Number(0))
			// AND the environment's interface endpoints, and S3's gateway endpoint
			endpoints := resources(t, tpl, "AWS::EC2::VPCEndpoint")
			for _, svc := range append(tt.endpoints, ".s3") {
				found := false
				for _, e := range endpoints {
					if contains(props(e)["ServiceName"], svc+"\"") {
						found = true
					}
				}
				if !found {
					t.Errorf("no VPC endpoint for %s", svc)
				}
			}
			tpl.ResourcePropertiesCountIs(jsii.String("AWS::EC2::VPCEndpoint"), &map[string]any{
				"VpcEndpointType": "Interface", "PrivateDnsEnabled": true}, jsii.Number(float64(len(tt.endpoints))))
		})
	}
}
