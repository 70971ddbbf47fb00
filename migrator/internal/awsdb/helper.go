package awsdb

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// HelperName is the helper binary that links the AWS SDK. It ships beside migrator.
const HelperName = "migrator-aws"

// Request is one operation for the helper, sent as JSON on its standard input (never in argv or
// the environment, which other processes can read).
type Request struct {
	Op         string        `json:"op"`
	Region     string        `json:"region,omitempty"`
	RegionHint string        `json:"regionHint,omitempty"`
	ARN        string        `json:"arn,omitempty"`
	Instance   string        `json:"instance,omitempty"`
	Prefix     string        `json:"prefix,omitempty"`
	From       int           `json:"from,omitempty"`
	To         int           `json:"to,omitempty"`
	Keep       int           `json:"keep,omitempty"`
	Limit      time.Duration `json:"limit,omitempty"`
	Poll       time.Duration `json:"poll,omitempty"`
	Host       string        `json:"host,omitempty"`
	Port       int           `json:"port,omitempty"`
	User       string        `json:"user,omitempty"`
}

// Operations the helper performs.
const (
	OpReadSecret       = "read-secret"
	OpDescribeInstance = "describe-instance"
	OpWaitAvailable    = "wait-available"
	OpCreateSnapshot   = "create-snapshot"
	OpSnapshots        = "snapshots"
	OpPruneSnapshots   = "prune-snapshots"
	OpAuthToken        = "auth-token"
)

// Response is the helper's answer on its standard output.
type Response struct {
	Error     *Error     `json:"error,omitempty"`
	Secret    *Secret    `json:"secret,omitempty"`
	Instance  *Instance  `json:"instance,omitempty"`
	Snapshot  string     `json:"snapshot,omitempty"`
	Snapshots []Snapshot `json:"snapshots,omitempty"`
	Deleted   []string   `json:"deleted,omitempty"`
	Token     string     `json:"token,omitempty"`
}

// Helper runs the migrator-aws helper, one process per operation. The operations are few per
// run (at most a secret, an instance check, a snapshot and a prune).
type Helper struct {
	Path       string // the helper binary
	Region     string // AWS_REGION, may be empty
	RegionHint string // region of the secret ARN, used when Region is empty
	Log        *slog.Logger
}

// FindHelper looks for migrator-aws beside the running executable, then on PATH.
func FindHelper() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), HelperName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(HelperName); err == nil {
		return p, nil
	}
	return "", &Error{Kind: KindConfig, Msg: "this run needs AWS (DB_SECRET_ARN, DB_INSTANCE_IDENTIFIER or DB_IAM_AUTH), but the " +
		HelperName + " helper is neither beside the migrator nor on PATH: `make build` builds both into bin/, and the image has both"}
}

func (h *Helper) call(ctx context.Context, req Request) (Response, error) {
	req.Region, req.RegionHint = h.Region, h.RegionHint
	in, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return Response{}, err
	}
	if err := cmd.Start(); err != nil {
		return Response{}, &Error{Kind: KindConfig, Msg: fmt.Sprintf("run %s: %v", h.Path, err), Err: err}
	}
	h.relayLogs(ctx, stderr) // until the helper closes stderr, i.e. exits; Wait comes after the reads
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return Response{}, ctx.Err()
	}
	var resp Response
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
		return Response{}, &Error{Kind: KindUnavailable, Msg: fmt.Sprintf("%s %s failed (%v) without an answer", HelperName, req.Op, waitErr)}
	}
	if resp.Error != nil {
		return resp, resp.Error
	}
	return resp, nil
}

// relayLogs passes the helper's JSON log lines on to the migrator's logger.
func (h *Helper) relayLogs(ctx context.Context, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			h.Log.WarnContext(ctx, HelperName+": "+strings.TrimSpace(sc.Text()))
			continue
		}
		msg, _ := rec["msg"].(string)
		var level slog.Level
		if s, ok := rec["level"].(string); ok {
			_ = level.UnmarshalText([]byte(s))
		}
		var attrs []any
		for k, v := range rec {
			if k != "msg" && k != "level" && k != "time" {
				attrs = append(attrs, k, v)
			}
		}
		h.Log.Log(ctx, level, msg, attrs...)
	}
}

// ReadSecret reads the database credentials from Secrets Manager.
func (h *Helper) ReadSecret(ctx context.Context, arn string) (Secret, error) {
	r, err := h.call(ctx, Request{Op: OpReadSecret, ARN: arn})
	if err != nil {
		return Secret{}, err
	}
	if r.Secret == nil {
		return Secret{}, errors.New(HelperName + ": no secret in the answer")
	}
	return *r.Secret, nil
}

// DescribeInstance looks up an RDS instance.
func (h *Helper) DescribeInstance(ctx context.Context, id string) (Instance, error) {
	r, err := h.call(ctx, Request{Op: OpDescribeInstance, Instance: id})
	if err != nil || r.Instance == nil {
		return Instance{}, errOrMissing(err, "instance")
	}
	return *r.Instance, nil
}

// WaitAvailable waits (at most limit) until the instance takes connections.
func (h *Helper) WaitAvailable(ctx context.Context, id string, limit, poll time.Duration) (Instance, error) {
	r, err := h.call(ctx, Request{Op: OpWaitAvailable, Instance: id, Limit: limit, Poll: poll})
	if err != nil || r.Instance == nil {
		return Instance{}, errOrMissing(err, "instance")
	}
	return *r.Instance, nil
}

// CreateSnapshot takes the pre-migration snapshot and waits (at most limit) until it is available.
func (h *Helper) CreateSnapshot(ctx context.Context, instance, prefix string, from, to int, limit, poll time.Duration) (string, error) {
	r, err := h.call(ctx, Request{Op: OpCreateSnapshot, Instance: instance, Prefix: prefix, From: from, To: to, Limit: limit, Poll: poll})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return "", err
		}
		var e *Error
		if errors.As(err, &e) && e.Kind == KindSnapshot {
			return "", err
		}
		return "", &Error{Kind: KindSnapshot, Msg: err.Error() + "; nothing was applied", Err: err}
	}
	return r.Snapshot, nil
}

// Snapshots lists the instance's pre-migration snapshots, newest first.
func (h *Helper) Snapshots(ctx context.Context, instance, prefix string) ([]Snapshot, error) {
	r, err := h.call(ctx, Request{Op: OpSnapshots, Instance: instance, Prefix: prefix})
	return r.Snapshots, err
}

// PruneSnapshots deletes our snapshots beyond the newest keep.
func (h *Helper) PruneSnapshots(ctx context.Context, instance, prefix string, keep int) ([]string, error) {
	r, err := h.call(ctx, Request{Op: OpPruneSnapshots, Instance: instance, Prefix: prefix, Keep: keep})
	return r.Deleted, err
}

// AuthToken makes an IAM database authentication token for one connection.
func (h *Helper) AuthToken(ctx context.Context, host string, port int, user string) (string, error) {
	r, err := h.call(ctx, Request{Op: OpAuthToken, Host: host, Port: port, User: user})
	return r.Token, err
}

func errOrMissing(err error, what string) error {
	if err != nil {
		return err
	}
	return errors.New(HelperName + ": no " + what + " in the answer")
}
