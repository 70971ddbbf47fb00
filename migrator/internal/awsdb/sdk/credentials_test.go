package sdk

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
)

// The environment picks the credentials in the SDK's order: keys, web identity (IRSA), the
// container endpoint (Pod Identity), the instance role; with IMDS disabled and nothing else,
// the run stops with advice.
func TestCredentialsFromTheEnvironment(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want any
	}{
		{"keys", map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_ROLE_ARN": "r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t"}, credentials.StaticCredentialsProvider{}},
		{"irsa", map[string]string{"AWS_ROLE_ARN": "r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"}, &stscreds.WebIdentityRoleProvider{}},
		{"pod identity", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/t"}, &endpointcreds.Provider{}},
		{"instance role", map[string]string{}, &ec2rolecreds.Provider{}},
		{"nothing", map[string]string{"AWS_EC2_METADATA_DISABLED": "true"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := credentialsFrom(aws.Config{Region: "eu-west-1"}, func(k string) string { return tt.env[k] })
			var e *Error
			switch {
			case tt.want == nil:
				if !errors.As(err, &e) || e.Kind != KindConfig {
					t.Errorf("err = %v, want a configuration error", err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if got, want := typeName(p), typeName(tt.want); got != want {
					t.Errorf("provider %s, want %s", got, want)
				}
			}
		})
	}
	env := map[string]string{"AWS_ENDPOINT_URL": "http://all", "AWS_ENDPOINT_URL_RDS": "http://rds"}
	get := func(k string) string { return env[k] }
	if *endpointFor(get, "RDS") != "http://rds" || *endpointFor(get, "SECRETS_MANAGER") != "http://all" || endpointFor(func(string) string { return "" }, "STS") != nil {
		t.Error("endpointFor does not prefer the service's variable over AWS_ENDPOINT_URL")
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
