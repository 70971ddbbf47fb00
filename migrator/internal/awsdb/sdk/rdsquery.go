package sdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// rdsAPI calls the RDS actions the migrator uses (describe an instance; create, describe and
// delete snapshots) through RDS's Query API, signed with Signature Version 4. The SDK's RDS
// client would do the same with 1.5 MB of the image for its 160 other operations.
type rdsAPI struct {
	endpoint string
	region   string
	creds    aws.CredentialsProvider
	http     *awshttp.BuildableClient
	signer   *v4.Signer
}

func newRDS(cfg aws.Config, endpoint *string) *rdsAPI {
	ep := "https://rds." + cfg.Region + ".amazonaws.com"
	if strings.HasPrefix(cfg.Region, "cn-") {
		ep += ".cn"
	}
	if endpoint != nil {
		ep = *endpoint
	}
	return &rdsAPI{endpoint: ep, region: cfg.Region, creds: cfg.Credentials, http: awshttp.NewBuildableClient(), signer: v4.NewSigner()}
}

// dbInstance and dbSnapshot are the fields of RDS's answers the migrator reads.
type dbInstance struct {
	DBInstanceArn    string
	DBInstanceStatus string
	Endpoint         *struct {
		Address string
		Port    int32
	}
}

type dbSnapshot struct {
	DBSnapshotIdentifier string
	Status               string
	SnapshotCreateTime   time.Time
	TagList              []rdsTag `xml:"TagList>Tag"`
}

type rdsTag struct{ Key, Value string }

func (r *rdsAPI) describeInstance(ctx context.Context, id string) ([]dbInstance, error) {
	var out struct {
		Instances []dbInstance `xml:"DescribeDBInstancesResult>DBInstances>DBInstance"`
	}
	err := r.call(ctx, "DescribeDBInstances", url.Values{"DBInstanceIdentifier": {id}}, &out)
	return out.Instances, err
}

func (r *rdsAPI) createSnapshot(ctx context.Context, instance, name string, tags []rdsTag) error {
	params := url.Values{"DBInstanceIdentifier": {instance}, "DBSnapshotIdentifier": {name}}
	for i, t := range tags {
		params.Set(fmt.Sprintf("Tags.Tag.%d.Key", i+1), t.Key)
		params.Set(fmt.Sprintf("Tags.Tag.%d.Value", i+1), t.Value)
	}
	return r.call(ctx, "CreateDBSnapshot", params, nil)
}

// describeSnapshots returns one page of snapshots and the marker of the next ("" after the last).
func (r *rdsAPI) describeSnapshots(ctx context.Context, params url.Values, marker string) ([]dbSnapshot, string, error) {
	if marker != "" {
		params.Set("Marker", marker)
	}
	var out struct {
		Snapshots []dbSnapshot `xml:"DescribeDBSnapshotsResult>DBSnapshots>DBSnapshot"`
		Marker    string       `xml:"DescribeDBSnapshotsResult>Marker"`
	}
	err := r.call(ctx, "DescribeDBSnapshots", params, &out)
	return out.Snapshots, out.Marker, err
}

func (r *rdsAPI) deleteSnapshot(ctx context.Context, name string) error {
	return r.call(ctx, "DeleteDBSnapshot", url.Values{"DBSnapshotIdentifier": {name}}, nil)
}

// httpError is an answer that is not RDS's error document (a proxy's, an emulator's).
type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("RDS answered HTTP %d: %.200s", e.status, e.body)
}
func (e *httpError) HTTPStatusCode() int { return e.status }

// retryable are the error codes worth another attempt, as the SDK's standard retryer has them.
var retryable = []string{"Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestThrottled", "TooManyRequestsException",
	"InternalFailure", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException"}

// call runs action with params and decodes the answer into out; up to three attempts for a
// throttled, failed or unreachable request, with the SDK's backoff.
func (r *rdsAPI) call(ctx context.Context, action string, params url.Values, out any) error {
	params.Set("Action", action)
	params.Set("Version", "2014-10-31")
	body := params.Encode()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			pause := time.Duration(rand.Int64N(int64(100*time.Millisecond) << attempt))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
		}
		var retry bool
		if retry, err = r.once(ctx, body, out); !retry {
			return err
		}
	}
	return err
}

func (r *rdsAPI) once(ctx context.Context, body string, out any) (retry bool, err error) {
	creds, err := r.creds.Retrieve(ctx)
	if err != nil {
		return false, fmt.Errorf("failed to retrieve credentials: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, strings.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if err := r.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "rds", r.region, time.Now()); err != nil {
		return false, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return true, err
	}
	if resp.StatusCode >= 300 {
		var doc struct {
			Code    string `xml:"Error>Code"`
			Message string `xml:"Error>Message"`
			Type    string `xml:"Error>Type"`
		}
		if xml.Unmarshal(data, &doc) != nil || doc.Code == "" {
			return resp.StatusCode >= 500, &httpError{status: resp.StatusCode, body: string(bytes.TrimSpace(data))}
		}
		fault := smithy.FaultClient
		if doc.Type == "Receiver" || resp.StatusCode >= 500 {
			fault = smithy.FaultServer
		}
		apiErr := &smithy.GenericAPIError{Code: doc.Code, Message: doc.Message, Fault: fault}
		return resp.StatusCode >= 500 || slices.Contains(retryable, doc.Code), apiErr
	}
	if out == nil {
		return false, nil
	}
	if err := xml.Unmarshal(data, out); err != nil {
		return false, fmt.Errorf("decode RDS's answer: %w", err)
	}
	return false, nil
}
