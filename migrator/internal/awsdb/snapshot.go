package awsdb

import (
	"fmt"
	"regexp"
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

var snapshotPrefix = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// ValidSnapshotPrefix reports whether prefix can start an RDS snapshot identifier.
func ValidSnapshotPrefix(prefix string) bool {
	return len(prefix) <= 200 && snapshotPrefix.MatchString(prefix)
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
