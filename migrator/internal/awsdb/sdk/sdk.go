// Package sdk implements the awsdb operations with the AWS SDK for Go v2. Only the
// migrator-aws helper links it (see package awsdb for why).
package sdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/carthub/carthub-db/migrator/internal/awsdb"
)

// Error kinds, as in package awsdb.
const (
	KindConfig      = awsdb.KindConfig
	KindUnavailable = awsdb.KindUnavailable
	KindSnapshot    = awsdb.KindSnapshot
)

// Error is awsdb.Error.
type Error = awsdb.Error

// Client talks to Secrets Manager and RDS in one region.
type Client struct {
	Region string
	cfg    aws.Config
	sm     *secretsmanager.Client
	rds    *rdsAPI
}

// New makes the clients for region. The region comes from AWS_REGION, else from the secret's ARN
// (regionHint); with neither, the user must set one. Credentials and endpoints come from the
// environment (credentialsFrom, endpointFor).
func New(ctx context.Context, region, regionHint string) (*Client, error) {
	if region == "" {
		region = regionHint
	}
	if region == "" {
		return nil, &Error{Kind: KindConfig, Msg: "no AWS region: set AWS_REGION (or use a full secret ARN, which names its region)"}
	}
	cfg := aws.Config{Region: region}
	creds, err := credentialsFrom(cfg, os.Getenv)
	if err != nil {
		return nil, err
	}
	cfg.Credentials = aws.NewCredentialsCache(creds)
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = endpointFor(os.Getenv, "SECRETS_MANAGER") })
	return &Client{Region: region, cfg: cfg, sm: sm, rds: newRDS(cfg, endpointFor(os.Getenv, "RDS"))}, nil
}

// AuthToken makes an IAM database authentication token, the password for one new connection
// (tokens expire after 15 minutes, so the caller asks for a fresh one per connection attempt).
func (c *Client) AuthToken(ctx context.Context, host string, port int, user string) (string, error) {
	tok, err := auth.BuildAuthToken(ctx, net.JoinHostPort(host, fmt.Sprint(port)), c.Region, user, c.cfg.Credentials)
	if err != nil {
		return "", classify(err, "build the IAM authentication token", "rds-db:connect")
	}
	return tok, nil
}

// classify turns an SDK error into advice. what is the attempted action, action the IAM action
// the migrator's role needs for it.
func classify(err error, what, action string) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		switch {
		case strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation":
			return &Error{Kind: KindConfig, Err: err, Msg: fmt.Sprintf("%s: access denied (%s): the migrator's role needs %s on this resource "+
				"(see the README's IAM section)", what, apiErr.ErrorMessage(), action)}
		case code == "InvalidClientTokenId" || code == "UnrecognizedClientException" || code == "ExpiredToken" ||
			code == "ExpiredTokenException" || code == "InvalidSignatureException" || code == "SignatureDoesNotMatch":
			return &Error{Kind: KindConfig, Err: err, Msg: fmt.Sprintf("%s: AWS rejected the credentials (%s): check the Pod Identity "+
				"association or IRSA role of the ServiceAccount, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", what, code)}
		case code == "ThrottlingException" || code == "Throttling" || code == "RequestLimitExceeded" || code == "InternalFailure" ||
			code == "InternalServiceError" || code == "ServiceUnavailable":
			return &Error{Kind: KindUnavailable, Err: err, Msg: fmt.Sprintf("%s: AWS is busy (%s); try again", what, code)}
		}
		return &Error{Kind: KindConfig, Err: err, Msg: fmt.Sprintf("%s: %s: %s", what, code, apiErr.ErrorMessage())}
	}
	// An emulator or proxy may answer 403 in a shape the SDK cannot decode: still a denial.
	var respErr interface{ HTTPStatusCode() int }
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() == 403 {
		return &Error{Kind: KindConfig, Err: err, Msg: fmt.Sprintf("%s: access denied (HTTP 403): the migrator's role needs %s on this resource "+
			"(see the README's IAM section)", what, action)}
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role found") {
		return &Error{Kind: KindConfig, Err: err, Msg: fmt.Sprintf("%s: no AWS credentials found: in EKS, associate the ServiceAccount "+
			"with a role (Pod Identity or IRSA); elsewhere set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", what)}
	}
	return &Error{Kind: KindUnavailable, Err: err, Msg: fmt.Sprintf("%s: cannot reach AWS (%v): check the VPC endpoints and the "+
		"Job's network policy", what, err)}
}
