package awsdb

import (
	"regexp"
	"strings"
	"testing"
)

// The prefix check agrees with the rule it replaces, ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ (at most 200).
func TestValidSnapshotPrefix(t *testing.T) {
	rule := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	for _, p := range []string{"carthub-premigrate", "a", "a1-b2-c3", "", "-a", "a-", "a--b", "1a", "A", "a_b", "a-B", "ab-9", "é",
		strings.Repeat("a", 200), strings.Repeat("a", 201)} {
		want := len(p) <= 200 && rule.MatchString(p)
		if got := ValidSnapshotPrefix(p); got != want {
			t.Errorf("ValidSnapshotPrefix(%q) = %v, want %v", p, got, want)
		}
	}
}
