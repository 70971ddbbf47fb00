package stacks

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestDatabase(t *testing.T) {
	for _, tt := range []struct {
		env            string
		backupDays     int
		protected      bool
		deletionPolicy string
		replicas       int
		multiAZ        bool
	}{{"dev", 7, false, "Delete", 0, false}, {"prod", 14, true, "Retain", 1, true}} {
		t.Run(tt.env, func(t *testing.T) {
			a := appFor(t, tt.env)
			tpl := template(a.Database.Stack)
			// THEN an encrypted, private PostgreSQL 17 (Multi-AZ in prod) with IAM auth, Performance Insights and logs
			tpl.HasResource(jsii.String("AWS::RDS::DBInstance"), &map[string]any{
				"DeletionPolicy": tt.deletionPolicy,
				"Properties": map[string]any{
					"DBInstanceIdentifier":            "carthub-" + tt.env + "-db",
					"Engine":                          "postgres",
					"EngineVersion":                   assertions.Match_StringLikeRegexp(jsii.String(`^17\.`)),
					"MultiAZ":                         tt.multiAZ,
					"StorageType":                     "gp3",
					"StorageEncrypted":                true,
					"KmsKeyId":                        assertions.Match_AnyValue(),
					"PubliclyAccessible":              false,
					"EnableIAMDatabaseAuthentication": true,
					"EnablePerformanceInsights":       true,
					"PerformanceInsightsKMSKeyId":     assertions.Match_AnyValue(),
					"EnableCloudwatchLogsExports":     []any{"postgresql", "upgrade"},
					"BackupRetentionPeriod":           tt.backupDays,
					"DeletionProtection":              tt.protected,
				},
			})
			tpl.ResourcePropertiesCountIs(jsii.String("AWS::RDS::DBInstance"), &map[string]any{
				"SourceDBInstanceIdentifier": assertions.Match_AnyValue()}, jsii.Number(tt.replicas))
			// AND a customer-managed key that rotates
			tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), &map[string]any{"EnableKeyRotation": true})
			// AND TLS forced, slow statements and lock waits logged, pg_stat_statements preloaded (capture-queries)
			tpl.HasResourceProperties(jsii.String("AWS::RDS::DBParameterGroup"), &map[string]any{
				"Family": assertions.Match_StringLikeRegexp(jsii.String("^postgres17")),
				"Parameters": assertions.Match_ObjectLike(&map[string]any{
					"rds.force_ssl": "1", "log_min_duration_statement": "1000", "log_lock_waits": "1",
					"shared_preload_libraries": "pg_stat_statements"}),
			})
			// AND generated credentials, rotated every 30 days
			tpl.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), &map[string]any{
				"Name": "carthub/" + tt.env + "/db-credentials", "KmsKeyId": assertions.Match_AnyValue()})
			tpl.HasResourceProperties(jsii.String("AWS::SecretsManager::RotationSchedule"), &map[string]any{
				"RotationRules": map[string]any{"ScheduleExpression": "rate(30 days)"}})
			// AND in the isolated subnets
			tpl.HasResourceProperties(jsii.String("AWS::RDS::DBSubnetGroup"), &map[string]any{
				"SubnetIds": assertions.Match_ArrayWith(&[]any{map[string]any{
					"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String("isolatedSubnet"))}})})
			// AND a security group that opens nothing but PostgreSQL to the secret's rotation Lambda
			for id, r := range resources(t, tpl, "AWS::EC2::SecurityGroupIngress") {
				p := props(r)
				if !strings.Contains(id, "Rotation") || !contains(p["SourceSecurityGroupId"], "RotationSecurityGroup") {
					t.Errorf("unexpected ingress to the database: %s %v", id, p)
				}
			}
			for _, r := range resources(t, tpl, "AWS::EC2::SecurityGroup") {
				if props(r)["SecurityGroupIngress"] != nil {
					t.Errorf("a database security group has inline ingress: %v", props(r))
				}
			}
		})
	}
}
