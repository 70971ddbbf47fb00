package schema

import (
	"fmt"
	"strings"
)

// Difference is one way the live catalog departs from the expected snapshot.
type Difference struct {
	Kind, Name      string
	Expected, Found string // empty Expected: unexpected object; empty Found: missing object
	Missing, Extra  bool
}

func (d Difference) String() string {
	switch {
	case d.Missing:
		return fmt.Sprintf("%s %s is missing (expected: %s)", d.Kind, d.Name, orNone(d.Expected))
	case d.Extra:
		return fmt.Sprintf("%s %s is not in the expected schema (found: %s)", d.Kind, d.Name, orNone(d.Found))
	default:
		return fmt.Sprintf("%s %s differs\n      expected: %s\n      found:    %s", d.Kind, d.Name, d.Expected, d.Found)
	}
}

func orNone(s string) string {
	if s == "" {
		return "present"
	}
	return s
}

// Diff compares a live snapshot with the expected one. Objects of tables the expected snapshot
// does not name are not compared: other applications may keep tables in the same schema.
func Diff(expected, live Snapshot) []Difference {
	want := map[string]Object{}
	tables := map[string]bool{}
	for _, o := range expected {
		want[o.key()] = o
		if o.Kind == "table" {
			tables[o.Name] = true
		}
	}
	var out []Difference
	found := map[string]bool{}
	for _, o := range live {
		if o.Kind != "function" && !tables[o.Table()] {
			continue
		}
		found[o.key()] = true
		w, ok := want[o.key()]
		switch {
		case !ok:
			out = append(out, Difference{Kind: o.Kind, Name: o.Name, Found: o.Def, Extra: true})
		case w.Def != o.Def:
			out = append(out, Difference{Kind: o.Kind, Name: o.Name, Expected: w.Def, Found: o.Def})
		}
	}
	for _, o := range expected {
		if found[o.key()] {
			continue
		}
		if o.Kind != "table" && o.Kind != "function" && !found["table "+o.Table()] {
			continue // the table itself is reported missing; its parts would only repeat that
		}
		out = append(out, Difference{Kind: o.Kind, Name: o.Name, Expected: o.Def, Missing: true})
	}
	return out
}

// Report joins differences into the multi-line text that verify and adopt print.
func Report(diffs []Difference) string {
	lines := make([]string, len(diffs))
	for i, d := range diffs {
		lines[i] = "  - " + d.String()
	}
	return strings.Join(lines, "\n")
}

// MismatchError is a live schema that differs from the expected one; the CLI exits with code 5.
type MismatchError struct {
	Diffs []Difference
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("the live schema differs from the expected schema in %d places:\n%s", len(e.Diffs), Report(e.Diffs))
}
