package schema

import (
	"strings"
	"testing"
)

func TestFormatParseRoundTrip(t *testing.T) {
	s := Snapshot{
		{Kind: "index", Name: "t.i", Def: "CREATE INDEX i ON t USING btree (a)"},
		{Kind: "table", Name: "t"},
		{Kind: "column", Name: "t.a", Def: "integer not null"},
		{Kind: "function", Name: "f()", Def: "returns trigger language plpgsql as BEGIN RETURN NEW; END;"},
	}
	s.sort()
	text := s.Format("header line")
	if !strings.HasPrefix(text, "-- header line\ntable t\ncolumn t.a: integer not null\n") {
		t.Errorf("Format:\n%s", text)
	}
	back, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if back.Format("header line") != text {
		t.Errorf("round trip changed the snapshot:\n%s", back.Format("header line"))
	}
	if _, err := Parse("gadget x: y"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("Parse of an unknown kind: %v", err)
	}
}

func TestDiff(t *testing.T) {
	expected := Snapshot{
		{Kind: "table", Name: "t"},
		{Kind: "column", Name: "t.a", Def: "integer not null"},
		{Kind: "index", Name: "t.i", Def: "CREATE INDEX i ON t USING btree (a)"},
		{Kind: "table", Name: "gone"},
		{Kind: "column", Name: "gone.x", Def: "text"},
	}
	live := Snapshot{
		{Kind: "table", Name: "t"},
		{Kind: "column", Name: "t.a", Def: "integer"},
		{Kind: "column", Name: "t.extra", Def: "text"},
		{Kind: "table", Name: "other_app"},
		{Kind: "column", Name: "other_app.y", Def: "text"},
	}
	got := Report(Diff(expected, live))
	for _, want := range []string{
		"column t.a differs\n      expected: integer not null\n      found:    integer",
		"column t.extra is not in the expected schema (found: text)",
		"index t.i is missing (expected: CREATE INDEX i ON t USING btree (a))",
		"table gone is missing",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"other_app", "gone.x"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("report mentions %q:\n%s", unwanted, got)
		}
	}
	if d := Diff(expected, expected); len(d) != 0 {
		t.Errorf("a snapshot differs from itself: %v", d)
	}
}
