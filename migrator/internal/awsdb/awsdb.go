// Package awsdb is the migrator's side of AWS: database credentials from Secrets Manager, IAM
// authentication tokens, the RDS instance's availability, and pre-migration snapshots.
//
// The AWS SDK costs milliseconds of start-up in every process that links it, and the no-op
// `migrator up` of every deploy must stay fast. So the SDK lives in package awsdb/sdk, linked
// only into the migrator-aws helper; the migrator runs that helper (Helper) when a run needs
// AWS, and this package holds what both sides share: the types, errors and pure rules.
package awsdb

import (
	"strings"
)

// Kind says what a failure means for the caller (and so for the exit code).
type Kind int

const (
	// KindConfig: wrong input or permissions; retrying will not help (exit 2).
	KindConfig Kind = iota + 1
	// KindUnavailable: AWS or the instance cannot be used right now (exit 3).
	KindUnavailable
	// KindSnapshot: the pre-migration snapshot could not be made; nothing was applied (exit 6).
	KindSnapshot
)

// Error is an AWS-side failure with advice for the user.
type Error struct {
	Kind Kind   `json:"kind"`
	Msg  string `json:"msg"`
	Err  error  `json:"-"`
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// RegionOfARN returns the region field of an ARN ("" if s is not an ARN).
func RegionOfARN(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}
