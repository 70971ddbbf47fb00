package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/awsdb"
)

// CreateSnapshot takes a manual snapshot of the instance, tagged as a pre-migration restore
// point, and waits until it is available (at most limit). Every failure is KindSnapshot: the
// caller must then apply nothing.
func (c *Client) CreateSnapshot(ctx context.Context, instance, prefix string, from, to int, limit, poll time.Duration, log *slog.Logger) (string, error) {
	name := awsdb.SnapshotName(prefix, from, to, time.Now())
	err := c.rds.createSnapshot(ctx, instance, name, []rdsTag{
		{Key: awsdb.TagPurpose, Value: awsdb.PurposeValue},
		{Key: awsdb.TagFrom, Value: strconv.Itoa(from)},
		{Key: awsdb.TagTo, Value: strconv.Itoa(to)},
		{Key: awsdb.TagCreatedBy, Value: "carthub-migrator"},
	})
	if err != nil {
		return name, snapshotErr(name, classify(err, "create snapshot "+name, "rds:CreateDBSnapshot and rds:AddTagsToResource"))
	}
	deadline := time.Now().Add(limit)
	for {
		snaps, _, err := c.rds.describeSnapshots(ctx, url.Values{"DBSnapshotIdentifier": {name}}, "")
		if err != nil {
			return name, snapshotErr(name, classify(err, "check snapshot "+name, "rds:DescribeDBSnapshots"))
		}
		status := ""
		if len(snaps) > 0 {
			status = snaps[0].Status
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
	for marker, first := "", true; first || marker != ""; first = false {
		page, next, err := c.rds.describeSnapshots(ctx, url.Values{"DBInstanceIdentifier": {instance}, "SnapshotType": {"manual"}}, marker)
		if err != nil {
			return nil, classify(err, "list snapshots of "+instance, "rds:DescribeDBSnapshots")
		}
		marker = next
		for _, s := range page {
			tags := map[string]string{}
			for _, t := range s.TagList {
				tags[t.Key] = t.Value
			}
			id := s.DBSnapshotIdentifier
			if tags[awsdb.TagPurpose] != awsdb.PurposeValue || !strings.HasPrefix(id, prefix+"-") {
				continue
			}
			snap := awsdb.Snapshot{ID: id, Status: s.Status, Created: s.SnapshotCreateTime}
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
		if err := c.rds.deleteSnapshot(ctx, s.ID); err != nil {
			return deleted, classify(err, "delete old snapshot "+s.ID, "rds:DeleteDBSnapshot")
		}
		log.InfoContext(ctx, "deleted an old pre-migration snapshot", "snapshot", s.ID, "created", s.Created)
		deleted = append(deleted, s.ID)
	}
	return deleted, nil
}
