package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/smithy-go"

	"github.com/carthub/carthub-db/migrator/internal/awsdb"
)

// DescribeInstance looks the instance up.
func (c *Client) DescribeInstance(ctx context.Context, id string) (awsdb.Instance, error) {
	instances, err := c.rds.describeInstance(ctx, id)
	if err != nil {
		if code := apiCode(err); code == "DBInstanceNotFound" || code == "DBInstanceNotFoundFault" {
			return awsdb.Instance{}, &Error{Kind: KindConfig, Err: err, Msg: fmt.Sprintf("RDS instance %q not found in %s: check DB_INSTANCE_IDENTIFIER and AWS_REGION", id, c.Region)}
		}
		return awsdb.Instance{}, classify(err, "describe RDS instance "+id, "rds:DescribeDBInstances")
	}
	if len(instances) == 0 {
		return awsdb.Instance{}, &Error{Kind: KindConfig, Msg: fmt.Sprintf("RDS instance %q not found in %s", id, c.Region)}
	}
	d := instances[0]
	inst := awsdb.Instance{ID: id, ARN: d.DBInstanceArn, Status: d.DBInstanceStatus}
	if d.Endpoint != nil {
		inst.Address = d.Endpoint.Address
		inst.Port = int(d.Endpoint.Port)
	}
	return inst, nil
}

// WaitAvailable returns once the instance takes connections. It waits, polling every poll, while
// the instance is in a status it leaves by itself (backing-up, modifying, ...), for at most
// limit; a stopped, failed or otherwise unusable instance is an error at once.
func (c *Client) WaitAvailable(ctx context.Context, id string, limit, poll time.Duration, log *slog.Logger) (awsdb.Instance, error) {
	deadline := time.Now().Add(limit)
	for {
		inst, err := c.DescribeInstance(ctx, id)
		if err != nil {
			return inst, err
		}
		ok, transient := awsdb.Wait(inst.Status)
		switch {
		case ok:
			return inst, nil
		case !transient:
			return inst, &Error{Kind: KindUnavailable, Msg: fmt.Sprintf("RDS instance %s is %s, so it cannot be migrated: "+
				"bring it back to available (for stopped: aws rds start-db-instance --db-instance-identifier %s) and run again", id, inst.Status, id)}
		case time.Now().After(deadline):
			return inst, &Error{Kind: KindUnavailable, Msg: fmt.Sprintf("RDS instance %s was still %s after %s: run again when it is available, or raise --instance-wait", id, inst.Status, limit)}
		}
		log.InfoContext(ctx, "waiting for the RDS instance to become available", "instance", id, "status", inst.Status)
		select {
		case <-ctx.Done():
			return inst, ctx.Err()
		case <-time.After(poll):
		}
	}
}

func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
