package sdk

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/carthub/carthub-db/migrator/internal/awsdb"
)

// ReadSecret fetches and parses the secret. Its value never appears in an error.
func (c *Client) ReadSecret(ctx context.Context, arn string) (awsdb.Secret, error) {
	out, err := c.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		if code := apiCode(err); code == "ResourceNotFoundException" {
			return awsdb.Secret{}, &Error{Kind: KindConfig, Err: err, Msg: fmt.Sprintf("secret %s not found in %s: check DB_SECRET_ARN and AWS_REGION", arn, c.Region)}
		}
		return awsdb.Secret{}, classify(err, "read secret "+arn, "secretsmanager:GetSecretValue")
	}
	if out.SecretString == nil {
		return awsdb.Secret{}, &Error{Kind: KindConfig, Msg: fmt.Sprintf("secret %s holds binary data, not the JSON an RDS secret holds", arn)}
	}
	return awsdb.ParseSecret(arn, *out.SecretString)
}
