// Command migrator-aws performs the migrator's AWS operations (Secrets Manager, RDS, IAM tokens)
// with the AWS SDK. The migrator runs it when a run needs AWS, so that the SDK's start-up cost is
// paid only then. It reads one awsdb.Request as JSON on stdin and writes one awsdb.Response as
// JSON on stdout; progress is logged as JSON on stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/carthub/carthub-db/migrator/internal/awsdb"
	"github.com/carthub/carthub-db/migrator/internal/awsdb/sdk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	var req awsdb.Request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "%s reads one JSON request on standard input; it is run by migrator: %v\n", awsdb.HelperName, err)
		os.Exit(2)
	}
	resp := handle(ctx, req, log)
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		os.Exit(1)
	}
}

func handle(ctx context.Context, req awsdb.Request, log *slog.Logger) (resp awsdb.Response) {
	fail := func(err error) awsdb.Response {
		var e *awsdb.Error
		if !errors.As(err, &e) {
			e = &awsdb.Error{Kind: awsdb.KindUnavailable, Msg: err.Error()}
		}
		return awsdb.Response{Error: e}
	}
	c, err := sdk.New(ctx, req.Region, req.RegionHint)
	if err != nil {
		return fail(err)
	}
	switch req.Op {
	case awsdb.OpReadSecret:
		s, err := c.ReadSecret(ctx, req.ARN)
		if err != nil {
			return fail(err)
		}
		resp.Secret = &s
	case awsdb.OpDescribeInstance:
		inst, err := c.DescribeInstance(ctx, req.Instance)
		if err != nil {
			return fail(err)
		}
		resp.Instance = &inst
	case awsdb.OpWaitAvailable:
		inst, err := c.WaitAvailable(ctx, req.Instance, req.Limit, req.Poll, log)
		if err != nil {
			return fail(err)
		}
		resp.Instance = &inst
	case awsdb.OpCreateSnapshot:
		name, err := c.CreateSnapshot(ctx, req.Instance, req.Prefix, req.From, req.To, req.Limit, req.Poll, log)
		if err != nil {
			return fail(err)
		}
		resp.Snapshot = name
	case awsdb.OpSnapshots:
		if resp.Snapshots, err = c.Snapshots(ctx, req.Instance, req.Prefix); err != nil {
			return fail(err)
		}
	case awsdb.OpPruneSnapshots:
		if resp.Deleted, err = c.PruneSnapshots(ctx, req.Instance, req.Prefix, req.Keep, log); err != nil {
			return fail(err)
		}
	case awsdb.OpAuthToken:
		if resp.Token, err = c.AuthToken(ctx, req.Host, req.Port, req.User); err != nil {
			return fail(err)
		}
	default:
		return fail(&awsdb.Error{Kind: awsdb.KindConfig, Msg: fmt.Sprintf("unknown operation %q", req.Op)})
	}
	return resp
}
