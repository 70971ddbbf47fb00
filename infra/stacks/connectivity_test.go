package stacks

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The connectivity test reads the synthesized templates of every stack as AWS would: security
// groups with their inline and separate rules, references across stacks through exports, and
// the two groups EKS makes itself (the cluster security group: all traffic among its members,
// all egress). A path is open when a group of the source allows it out and a group of the
// destination allows it in.

// sgRule is one security group rule: a port range and either a peer group or a CIDR.
type sgRule struct {
	proto    string // tcp, udp, icmp, -1
	from, to int
	peerSG   string
	cidr     string
}

func (r sgRule) covers(proto string, port int) bool {
	return (r.proto == "-1" || r.proto == proto) && (r.proto == "-1" || (r.from <= port && port <= r.to))
}

// endpoint is a source or destination: the security groups on its interfaces and the subnets it
// sits in.
type endpoint struct {
	name  string
	sgs   []string
	cidrs []string
}

type netModel struct {
	ingress, egress map[string][]sgRule
	// declared lists every group found in the templates (and EKS's own).
	declared []string
	stacks   map[string]map[string]any // stack name -> template
	exports  map[string][2]any         // export name -> stack, value
}

const eksClusterSG = "EKS-managed cluster security group"

func newNetModel(t *testing.T, a *App) *netModel {
	t.Helper()
	m := &netModel{ingress: map[string][]sgRule{}, egress: map[string][]sgRule{}, stacks: map[string]map[string]any{}, exports: map[string][2]any{}}
	for _, s := range a.Stacks() {
		var tpl map[string]any
		b, _ := json.Marshal(template(s).ToJSON())
		_ = json.Unmarshal(b, &tpl)
		m.stacks[*s.StackName()] = tpl
		outs, _ := tpl["Outputs"].(map[string]any)
		for _, o := range outs {
			om := o.(map[string]any)
			if exp, ok := om["Export"].(map[string]any); ok {
				m.exports[fmt.Sprint(exp["Name"])] = [2]any{*s.StackName(), om["Value"]}
			}
		}
	}
	for stack, tpl := range m.stacks {
		for id, r := range tpl["Resources"].(map[string]any) {
			res := r.(map[string]any)
			p, _ := res["Properties"].(map[string]any)
			switch res["Type"] {
			case "AWS::EC2::SecurityGroup":
				sg := stack + "/" + id
				m.declared = append(m.declared, sg)
				for _, in := range list(p["SecurityGroupIngress"]) {
					m.ingress[sg] = append(m.ingress[sg], m.rule(t, stack, in.(map[string]any), "SourceSecurityGroupId"))
				}
				if p["SecurityGroupEgress"] == nil { // CloudFormation's default: all egress
					m.egress[sg] = append(m.egress[sg], sgRule{proto: "-1", cidr: "0.0.0.0/0"})
				}
				for _, out := range list(p["SecurityGroupEgress"]) {
					m.egress[sg] = append(m.egress[sg], m.rule(t, stack, out.(map[string]any), "DestinationSecurityGroupId"))
				}
			case "AWS::EC2::SecurityGroupIngress":
				sg := m.resolve(t, stack, p["GroupId"])
				m.ingress[sg] = append(m.ingress[sg], m.rule(t, stack, p, "SourceSecurityGroupId"))
			case "AWS::EC2::SecurityGroupEgress":
				sg := m.resolve(t, stack, p["GroupId"])
				m.egress[sg] = append(m.egress[sg], m.rule(t, stack, p, "DestinationSecurityGroupId"))
			}
		}
	}
	m.declared = append(m.declared, eksClusterSG)
	m.ingress[eksClusterSG] = append(m.ingress[eksClusterSG], sgRule{proto: "-1", peerSG: eksClusterSG})
	m.egress[eksClusterSG] = append(m.egress[eksClusterSG], sgRule{proto: "-1", cidr: "0.0.0.0/0"})
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func (m *netModel) rule(t *testing.T, stack string, p map[string]any, peerKey string) sgRule {
	t.Helper()
	r := sgRule{proto: fmt.Sprint(p["IpProtocol"]), from: -1, to: -1}
	if p["FromPort"] != nil {
		r.from, _ = strconv.Atoi(m.resolve(t, stack, p["FromPort"]))
	}
	if p["ToPort"] != nil {
		r.to, _ = strconv.Atoi(m.resolve(t, stack, p["ToPort"]))
	}
	if p[peerKey] != nil {
		r.peerSG = m.resolve(t, stack, p[peerKey])
	}
	if p["CidrIp"] != nil {
		r.cidr = m.resolve(t, stack, p["CidrIp"])
	}
	if p["DestinationPrefixListId"] != nil {
		r.cidr = "prefix-list:" + m.resolve(t, stack, p["DestinationPrefixListId"])
	}
	return r
}

// resolve turns a template value into a literal, or into the name of the security group it
// refers to (stack/logicalId, or EKS's cluster group).
func (m *netModel) resolve(t *testing.T, stack string, v any) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.Itoa(int(x))
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			return stack + "/" + ref
		}
		if imp, ok := x["Fn::ImportValue"]; ok {
			e, found := m.exports[fmt.Sprint(imp)]
			if !found {
				t.Fatalf("import %v has no export", imp)
			}
			return m.resolve(t, e[0].(string), e[1])
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok {
			id, attr := ga[0].(string), ga[1].(string)
			res := m.stacks[stack]["Resources"].(map[string]any)[id].(map[string]any)
			p, _ := res["Properties"].(map[string]any)
			switch attr {
			case "GroupId":
				return stack + "/" + id
			case "ClusterSecurityGroupId":
				return eksClusterSG
			case "CidrBlock":
				return m.resolve(t, stack, p["CidrBlock"])
			case "Endpoint.Port":
				return m.resolve(t, stack, p["Port"])
			}
		}
	}
	t.Fatalf("cannot resolve %v in %s", v, stack)
	return ""
}

// allows reports whether src may open proto/port to dst.
func (m *netModel) allows(src, dst endpoint, proto string, port int) bool {
	out := false
	for _, sg := range src.sgs {
		for _, r := range m.egress[sg] {
			if r.covers(proto, port) && (slices.Contains(dst.sgs, r.peerSG) || cidrCoversAll(r.cidr, dst.cidrs)) {
				out = true
			}
		}
	}
	if !out {
		return false
	}
	for _, sg := range dst.sgs {
		for _, r := range m.ingress[sg] {
			if r.covers(proto, port) && (slices.Contains(src.sgs, r.peerSG) || cidrCoversAll(r.cidr, src.cidrs)) {
				return true
			}
		}
	}
	return false
}

func cidrCoversAll(cidr string, addrs []string) bool {
	outer, err := netip.ParsePrefix(cidr)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a)
		if err != nil || !outer.Contains(p.Addr()) || p.Bits() < outer.Bits() {
			return false
		}
	}
	return true
}

// endpoints finds the parts of the system in the templates.
func (m *netModel) endpoints(t *testing.T, a *App) map[string]endpoint {
	t.Helper()
	private, isolated := a.Network.EndpointCIDRs(), a.Network.DatabaseCIDRs()
	find := func(stack, typ string, match func(id string, p map[string]any) bool, sgsOf func(stack string, p map[string]any) []string) []string {
		for id, r := range m.stacks[stack]["Resources"].(map[string]any) {
			res := r.(map[string]any)
			p, _ := res["Properties"].(map[string]any)
			if res["Type"] == typ && match(id, p) {
				return sgsOf(stack, p)
			}
		}
		t.Fatalf("no %s in %s", typ, stack)
		return nil
	}
	ids := func(path ...string) func(string, map[string]any) []string {
		return func(stack string, p map[string]any) []string {
			var v any = p
			for _, k := range path {
				v = v.(map[string]any)[k]
			}
			var out []string
			for _, x := range list(v) {
				out = append(out, m.resolve(t, stack, x))
			}
			return out
		}
	}
	always := func(string, map[string]any) bool { return true }
	clusterStack, dbStack, pipeStack := *a.Cluster.Stack.StackName(), *a.Database.Stack.StackName(), *a.Pipeline.Stack.StackName()
	controlPlane := find(clusterStack, "AWS::EKS::Cluster", always, ids("ResourcesVpcConfig", "SecurityGroupIds"))
	ep := map[string]endpoint{
		"Deploy CodeBuild": {"Deploy CodeBuild", find(pipeStack, "AWS::CodeBuild::Project",
			func(_ string, p map[string]any) bool { return p["VpcConfig"] != nil }, ids("VpcConfig", "SecurityGroupIds")), private},
		"EKS API":             {"EKS API", append(controlPlane, eksClusterSG), private},
		"nodes and pods":      {"nodes and pods", []string{eksClusterSG}, private}, // managed nodes, VPC CNI: pods share the node's groups
		"RDS":                 {"RDS", find(dbStack, "AWS::RDS::DBInstance", func(_ string, p map[string]any) bool { return p["SourceDBInstanceIdentifier"] == nil }, ids("VPCSecurityGroups")), isolated},
		"rotation Lambda":     {"rotation Lambda", []string{dbStack + "/" + logicalIDLike(t, m.stacks[dbStack], "AWS::EC2::SecurityGroup", "RotationSecurityGroup")}, private},
		"kubectl provider":    {"kubectl provider", find(clusterStack, "AWS::Lambda::Function", func(id string, _ map[string]any) bool { return strings.Contains(id, "KubectlProviderHandler") }, ids("VpcConfig", "SecurityGroupIds")), private},
		"interface endpoints": {"interface endpoints", find(*a.Network.Stack.StackName(), "AWS::EC2::VPCEndpoint", func(_ string, p map[string]any) bool { return p["VpcEndpointType"] == "Interface" }, ids("SecurityGroupIds")), private},
		"the internet":        {"the internet", nil, []string{"0.0.0.0/0"}},
	}
	return ep
}

func logicalIDLike(t *testing.T, tpl map[string]any, typ, prefix string) string {
	t.Helper()
	for id, r := range tpl["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == typ && strings.HasPrefix(id, prefix) {
			return id
		}
	}
	t.Fatalf("no %s named %s*", typ, prefix)
	return ""
}

// The paths the system needs are open, and the database admits nobody else.
func TestConnectivity(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		t.Run(env, func(t *testing.T) {
			a := appFor(t, env)
			m := newNetModel(t, a)
			// Prod's Deploy stage reaches every AWS API it calls inside the VPC (S3 by its prefix
			// list); dev's takes the NAT for EKS and CloudWatch Logs.
			deploy := "tcp:443-443:0.0.0.0/0"
			if a.Config.DeployAPIsInVPC() {
				deploy = "tcp:443-443:10.0.0.0/16 tcp:443-443:prefix-list:pl-6da54004"
			}
			checkConnectivity(t, m, m.endpoints(t, a), deploy)
		})
	}
}

func checkConnectivity(t *testing.T, m *netModel, ep map[string]endpoint, deployEgress string) {
	t.Helper()
	for _, p := range []struct {
		from, to string
		port     int
		open     bool
	}{
		{"Deploy CodeBuild", "EKS API", 443, true},
		{"kubectl provider", "EKS API", 443, true},
		{"nodes and pods", "EKS API", 443, true},
		{"nodes and pods", "RDS", 5432, true}, // the migration Job and the cart services
		{"rotation Lambda", "RDS", 5432, true},
		{"nodes and pods", "interface endpoints", 443, true}, // ECR, STS, Secrets Manager, EKS Auth, logs
		{"Deploy CodeBuild", "interface endpoints", 443, true},
		{"rotation Lambda", "interface endpoints", 443, true}, // Secrets Manager
		{"Deploy CodeBuild", "RDS", 5432, false},
		{"kubectl provider", "RDS", 5432, true}, // it shares the cluster group (the CDK's choice)
		{"interface endpoints", "RDS", 5432, false},
		{"the internet", "RDS", 5432, false},
		{"the internet", "EKS API", 443, false},
		{"interface endpoints", "the internet", 443, false}, // endpoints answer; they open nothing
		{"RDS", "the internet", 443, false},
		{"rotation Lambda", "the internet", 443, false},
	} {
		if got := m.allows(ep[p.from], ep[p.to], "tcp", p.port); got != p.open {
			t.Errorf("%s -> %s:%d open=%v, want %v", p.from, p.to, p.port, got, p.open)
		}
	}
	for _, r := range databaseIntruders(m, ep) {
		t.Errorf("the database admits %+v", r)
	}
	// Every group's egress is what its owner needs (the EKS-managed group is AWS's).
	wantEgress := map[string]string{
		"Deploy CodeBuild":    deployEgress,
		"interface endpoints": "icmp:252-86:255.255.255.255/32", // the CDK's "no egress" placeholder
		"rotation Lambda":     "tcp:443-443:10.0.0.0/16 tcp:5432-5432:RDS",
	}
	for name, want := range wantEgress {
		var got []string
		for _, sg := range ep[name].sgs {
			for _, r := range m.egress[sg] {
				peer := r.cidr
				if slices.Contains(ep["RDS"].sgs, r.peerSG) {
					peer = "RDS"
				} else if r.peerSG != "" {
					peer = r.peerSG
				}
				got = append(got, fmt.Sprintf("%s:%d-%d:%s", r.proto, r.from, r.to, peer))
			}
		}
		slices.Sort(got)
		if strings.Join(got, " ") != want {
			t.Errorf("%s egress = %v, want %s", name, got, want)
		}
	}
	for _, sg := range m.declared {
		if sg == eksClusterSG {
			continue
		}
		for _, r := range m.egress[sg] {
			if r.proto == "-1" && r.cidr == "0.0.0.0/0" && !strings.Contains(sg, "Nodegroup") {
				t.Errorf("%s allows all egress", sg)
			}
		}
	}
}

// databaseIntruders are the database's ingress rules beyond PostgreSQL from the cluster's group
// and the rotation Lambda's.
func databaseIntruders(m *netModel, ep map[string]endpoint) []sgRule {
	allowed := append([]string{eksClusterSG}, ep["rotation Lambda"].sgs...)
	var out []sgRule
	for _, sg := range ep["RDS"].sgs {
		for _, r := range m.ingress[sg] {
			if r.cidr != "" || !slices.Contains(allowed, r.peerSG) || r.proto != "tcp" || r.from != PostgresPort || r.to != PostgresPort {
				out = append(out, r)
			}
		}
	}
	return out
}

// The test can fail: without the rule that admits the Deploy stage to the cluster group, the
// first kubectl call would time out, and the test says so.
func TestConnectivityCatchesAMissingRule(t *testing.T) {
	a := appFor(t, "dev")
	m := newNetModel(t, a)
	ep := m.endpoints(t, a)
	var kept []sgRule
	for _, r := range m.ingress[eksClusterSG] {
		if !slices.Contains(ep["Deploy CodeBuild"].sgs, r.peerSG) {
			kept = append(kept, r)
		}
	}
	m.ingress[eksClusterSG] = kept
	if m.allows(ep["Deploy CodeBuild"], ep["EKS API"], "tcp", 443) {
		t.Fatal("the Deploy stage still reaches the API after its rule was removed")
	}
	// And a widened database group is caught by the same checks.
	db := ep["RDS"].sgs[0]
	m.ingress[db] = append(m.ingress[db], sgRule{proto: "tcp", from: 5432, to: 5432, cidr: "10.0.0.0/16"})
	if len(databaseIntruders(m, ep)) != 1 {
		t.Fatal("a VPC-wide rule on the database went unnoticed")
	}
}
