package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/carthub/carthub-db/migrator/internal/awsdb"
)

// CreateSnapshot takes a manual snapshot of the instance, tagged as a pre-migration restore
// point, and waits until it is available (at most limit). Every failure is KindSnapshot: the
// caller must then apply nothing.
func (c *Client) CreateSnapshot(ctx context.Context, instance, prefix string, from, to int, limit, poll time.Duration, log *slog.Logger) (string, error) {
	name := awsdb.SnapshotName(prefix, from, to, time.Now())
	_, err := c.rds.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String(instance),
		DBSnapshotIdentifier: aws.String(name),
		Tags: []types.Tag{
			{Key: aws.String(awsdb.TagPurpose), Value: aws.String(awsdb.PurposeValue)},
			{Key: aws.String(awsdb.TagFrom), Value: aws.String(strconv.Itoa(from))},
			{Key: aws.String(awsdb.TagTo), Value: aws.String(strconv.Itoa(to))},
			{Key: aws.String(awsdb.TagCreatedBy), Value: aws.String("carthub-migrator")},
		},
	})
	if err != nil {
		return name, snapshotErr(name, classify(err, "create snapshot "+name, "rds:CreateDBSnapshot and rds:AddTagsToResource"))
	}
	deadline := time.Now().Add(limit)
	for {
		out, err := c.rds.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(name)})
		if err != nil {
			return name, snapshotErr(name, classify(err, "check snapshot "+name, "rds:DescribeDBSnapshots"))
		}
		status := ""
		if len(out.DBSnapshots) > 0 {
			status = aws.ToString(out.DBSnapshots[0].Status)
		}
		switch {
		case status == "available":
			return name, nil
		case status == "failed" || status == "error" || status == "deleted":
			return name, &Error{Kind: KindSnapshot, Msg: fmt.Sprintf("snapshot %s ended %s; nothing was applied", name, status)}
		case time.Now().After(deadline):
			return name, &Error{Kind: KindSnapshot, Msg: fmt.Sprintf("snapshot %s was still %s after --snapshot-timeout %s; nothing was applied. "+
				"It will become a restore point when it completes: run again then", name, status, limit)}
		}
		log.InfoContext(ctx, "waiting for the pre-migration snapshot", "snapshot", name, "status", status)
		select {
		case <-ctx.Done():
			return name, ctx.Err()
		case <-time.After(poll):
		}
	}
}

func snapshotErr(name string, err error) error {
	e, ok := err.(*Error)
	if !ok {
		return &Error{Kind: KindSnapshot, Msg: fmt.Sprintf("snapshot %s: %v; nothing was applied", name, err), Err: err}
	}
	return &Error{Kind: KindSnapshot, Msg: e.Msg + "; nothing was applied", Err: e.Err}
}

// Snapshots lists the instance's pre-migration snapshots (ours: our tag and our prefix), newest first.
func (c *Client) Snapshots(ctx context.Context, instance, prefix string) ([]awsdb.Snapshot, error) {
	var out []awsdb.Snapshot
	in := &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(instance), SnapshotType: aws.String("manual")}
	p := rds.NewDescribeDBSnapshotsPaginator(c.rds, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(err, "list snapshots of "+instance, "rds:DescribeDBSnapshots")
		}
		for _, s := range page.DBSnapshots {
			tags := map[string]string{}
			for _, t := range s.TagList {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			id := aws.ToString(s.DBSnapshotIdentifier)
			if tags[awsdb.TagPurpose] != awsdb.PurposeValue || !strings.HasPrefix(id, prefix+"-") {
				continue
			}
			snap := awsdb.Snapshot{ID: id, Status: aws.ToString(s.Status), Created: aws.ToTime(s.SnapshotCreateTime)}
			snap.From, _ = strconv.Atoi(tags[awsdb.TagFrom])
			snap.To, _ = strconv.Atoi(tags[awsdb.TagTo])
			out = append(out, snap)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID > out[j].ID // names end in the time: a tie-break that keeps the newest first
	})
	return out, nil
}

// PruneSnapshots deletes the instance's pre-migration snapshots beyond the newest keep.
// Snapshots without our tag and prefix are never touched.
func (c *Client) PruneSnapshots(ctx context.Context, instance, prefix string, keep int, log *slog.Logger) ([]string, error) {
	snaps, err := c.Snapshots(ctx, instance, prefix)
	if err != nil {
		return nil, err
	}
	var deleted []string
	for i, s := range snaps {
		if i < keep || s.Status != "available" {
			continue
		}
		if _, err := c.rds.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String(s.ID)}); err != nil {
			return deleted, classify(err, "delete old snapshot "+s.ID, "rds:DeleteDBSnapshot")
		}
		log.InfoContext(ctx, "deleted an old pre-migration snapshot", "snapshot", s.ID, "created", s.Created)
		deleted = append(deleted, s.ID)
	}
	return deleted, nil
}
