package awsdb

import (
	"fmt"
	"strings"
	"time"

	"github.com/carthub/carthub-db/names"
)

// Tags on every snapshot the migrator takes; only snapshots carrying TagPurpose=PurposeValue (and
// the configured name prefix) are ever deleted by retention.
const (
	TagPurpose   = "carthub:purpose"
	PurposeValue = "pre-migration"
	TagFrom      = "carthub:from-version"
	TagTo        = "carthub:to-version"
	TagCreatedBy = "carthub:created-by"
)

// DefaultSnapshotPrefix starts the names of pre-migration snapshots.
const DefaultSnapshotPrefix = names.SnapshotPrefix

// ValidSnapshotPrefix reports whether prefix can start an RDS snapshot identifier: lower-case
// letters, digits and single hyphens, starting with a letter, not ending with a hyphen. (A
// loop, not a regexp: every run checks the prefix, and a compiled regexp costs the start-up.)
func ValidSnapshotPrefix(prefix string) bool {
	if prefix == "" || len(prefix) > 200 || prefix[0] < 'a' || prefix[0] > 'z' || prefix[len(prefix)-1] == '-' {
		return false
	}
	for i := 1; i < len(prefix); i++ {
		c := prefix[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && prefix[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// SnapshotName is the restore point's name, e.g. carthub-premigrate-0004-to-0007-20261125t211005z.
func SnapshotName(prefix string, from, to int, at time.Time) string {
	return fmt.Sprintf("%s-%04d-to-%04d-%s", prefix, from, to, strings.ToLower(at.UTC().Format("20060102T150405Z")))
}

// Snapshot is one pre-migration restore point.
type Snapshot struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
	From    int       `json:"from"`
	To      int       `json:"to"`
}
