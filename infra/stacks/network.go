package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// NetworkStackProps configure the network.
type NetworkStackProps struct {
	awscdk.StackProps
	Config EnvConfig
}

// NetworkStack is the VPC every other stack lives in.
type NetworkStack struct {
	awscdk.Stack
	Vpc awsec2.Vpc
	// Endpoints is the security group of the interface endpoints: HTTPS in from the VPC,
	// nothing out (an endpoint answers; it never opens a connection).
	Endpoints awsec2.SecurityGroup
}

// VpcCIDR is the VPC's address range; the subnets' ranges are carved from it at synth time.
const VpcCIDR = "10.0.0.0/16"

// DatabaseCIDRs are the isolated subnets', where RDS lives.
func (n *NetworkStack) DatabaseCIDRs() []string { return cidrs(*n.Vpc.IsolatedSubnets()) }

// EndpointCIDRs are the private subnets', where the interface endpoints, the nodes and the pods are.
func (n *NetworkStack) EndpointCIDRs() []string { return cidrs(*n.Vpc.PrivateSubnets()) }

// PublicCIDRs are the public subnets', where load balancers send from.
func (n *NetworkStack) PublicCIDRs() []string { return cidrs(*n.Vpc.PublicSubnets()) }

func cidrs(subnets []awsec2.ISubnet) []string {
	out := make([]string, 0, len(subnets))
	for _, s := range subnets {
		out = append(out, *s.Ipv4CidrBlock())
	}
	return out
}

// NewNetworkStack makes a VPC across Config.MaxAZs zones with public subnets (load balancers, NAT),
// private subnets with egress (EKS nodes, the rotation Lambda) and isolated subnets (RDS), VPC
// flow logs, and endpoints so that the migrator reaches AWS APIs without the internet.
func NewNetworkStack(scope constructs.Construct, id string, props *NetworkStackProps) *NetworkStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	cfg := props.Config
	vpc := awsec2.NewVpc(stack, str("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(str(VpcCIDR)),
		MaxAzs:      jsii.Number(cfg.MaxAZs),
		NatGateways: jsii.Number(cfg.NatGateways),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			// NAT gateways have their Elastic IPs and load balancers their own addresses: nothing
			// launched here needs a public IP of its own (Trivy AWS-0164).
			{Name: str("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24), MapPublicIpOnLaunch: jsii.Bool(false)},
			{Name: str("private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(20)},
			{Name: str("isolated"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(24)},
		},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})

	logKey := awskms.NewKey(stack, str("FlowLogKey"), &awskms.KeyProps{
		Description: str(cfg.Prefix() + " VPC flow logs"), EnableKeyRotation: jsii.Bool(true), RemovalPolicy: cfg.RemovalPolicy,
	})
	grantLogsEncryption(stack, logKey)
	flowLogs := awslogs.NewLogGroup(stack, str("FlowLogs"), &awslogs.LogGroupProps{
		Retention: retention(cfg.LogRetentionDays), EncryptionKey: logKey, RemovalPolicy: cfg.RemovalPolicy,
	})
	// Refused traffic only: what a blocked connection's investigation needs (a security group
	// or NACL that says no). Accepted traffic is nearly all of the volume, and so of the cost of
	// ingesting it into CloudWatch Logs for a year.
	vpc.AddFlowLog(str("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
		TrafficType: awsec2.FlowLogTrafficType_REJECT,
	})

	endpointSG := awsec2.NewSecurityGroup(stack, str("EndpointSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc: vpc, Description: str("interface endpoints: HTTPS from the VPC, no egress"), AllowAllOutbound: jsii.Bool(false),
	})
	endpointSG.AddIngressRule(awsec2.Peer_Ipv4(vpc.VpcCidrBlock()), awsec2.Port_Tcp(jsii.Number(443)), str("HTTPS from the VPC"), nil)
	// Interface endpoints in the private subnets, where the pods run.
	for _, name := range cfg.Endpoints {
		vpc.AddInterfaceEndpoint(str(name+"Endpoint"), &awsec2.InterfaceVpcEndpointOptions{
			Service:           InterfaceEndpoints[name],
			Subnets:           &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
			PrivateDnsEnabled: jsii.Bool(true),
			SecurityGroups:    &[]awsec2.ISecurityGroup{endpointSG},
			Open:              jsii.Bool(false),
		})
	}
	vpc.AddGatewayEndpoint(str("S3Endpoint"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(),
	})
	awscdk.NewCfnOutput(stack, str("VpcCidr"), &awscdk.CfnOutputProps{Value: vpc.VpcCidrBlock(),
		Description: str("k8s-synth --vpc-cidr")})
	return &NetworkStack{Stack: stack, Vpc: vpc, Endpoints: endpointSG}
}
