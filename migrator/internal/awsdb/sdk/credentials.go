package sdk

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// credentialsFrom picks the credentials of a run from its environment, in the AWS SDK's default
// order for the sources a Job or a build host has: the keys in AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY; a web identity token (IRSA); the container credentials endpoint (EKS
// Pod Identity, ECS, CodeBuild); the instance's role (IMDS). The SDK's shared configuration files
// (AWS_PROFILE, SSO) are not read: the config package that reads them brings the SSO, SSO OIDC
// and sign-in clients, 1.4 MB of the image, for a source no Job uses.
func credentialsFrom(cfg aws.Config, getenv func(string) string) (aws.CredentialsProvider, error) {
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")), nil
	}
	if file, role := getenv("AWS_WEB_IDENTITY_TOKEN_FILE"), getenv("AWS_ROLE_ARN"); file != "" && role != "" {
		stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = endpointFor(getenv, "STS") })
		return stscreds.NewWebIdentityRoleProvider(stsClient, role, stscreds.IdentityTokenFile(file), func(o *stscreds.WebIdentityRoleOptions) {
			o.RoleSessionName = getenv("AWS_ROLE_SESSION_NAME")
		}), nil
	}
	full, relative := getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"), getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
	if relative != "" {
		full = "http://169.254.170.2" + relative
	}
	if full != "" {
		token, tokenFile := getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"), getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
		return endpointcreds.New(full, func(o *endpointcreds.Options) {
			o.AuthorizationToken = token
			if tokenFile != "" { // Pod Identity rotates the token in this file
				o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
					b, err := os.ReadFile(tokenFile)
					if err != nil {
						return "", fmt.Errorf("read the container authorization token: %w", err)
					}
					return strings.TrimSpace(string(b)), nil
				})
			}
		}), nil
	}
	if !strings.EqualFold(getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		return ec2rolecreds.New(), nil
	}
	return nil, &Error{Kind: KindConfig, Msg: "no AWS credentials found: in EKS, associate the ServiceAccount with a role (Pod Identity or IRSA); " +
		"elsewhere set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (for a profile: eval \"$(aws configure export-credentials --format env)\")"}
}

// endpointFor is the endpoint AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL sets (an emulator,
// a VPC endpoint's name), or nil for the service's regional endpoint.
func endpointFor(getenv func(string) string, service string) *string {
	if v := getenv("AWS_ENDPOINT_URL_" + service); v != "" {
		return aws.String(v)
	}
	if v := getenv("AWS_ENDPOINT_URL"); v != "" {
		return aws.String(v)
	}
	return nil
}
