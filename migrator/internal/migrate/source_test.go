package migrate

import (
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadIsStrict(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string // error substring; empty: loads
	}{
		{"ok", fstest.MapFS{"0001_a.sql": file("select 1;"), "0002_b.sql": file("select 2;"), "schema.sql": file("x"), "README.md": file("x")}, ""},
		{"gap", fstest.MapFS{"0001_a.sql": file("select 1;"), "0003_c.sql": file("select 3;")}, "expected version 0002 next"},
		{"duplicate", fstest.MapFS{"0001_a.sql": file("select 1;"), "0001_b.sql": file("select 2;")}, "share version 0001"},
		{"bad_name", fstest.MapFS{"0001_Add-Thing.sql": file("select 1;")}, "name must look like 0007_add_thing.sql"},
		{"three_digits", fstest.MapFS{"001_a.sql": file("select 1;")}, "name must look like"},
		{"version_zero", fstest.MapFS{"0000_a.sql": file("select 1;")}, "versions start at 0001"},
		{"empty_up", fstest.MapFS{"0001_a.sql": file("-- nothing\n-- migrator:down\nselect 1;")}, "up part has no SQL statement"},
		{"unclosed_quote", fstest.MapFS{"0001_a.sql": file("select 'oops;")}, "never closed"},
		{"none", fstest.MapFS{"schema.sql": file("x")}, "no migration files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.files)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Load error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseDirectivesAndChecksum(t *testing.T) {
	text := "-- what\n-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrator:down\nDROP INDEX CONCURRENTLY i;\n"
	m, err := Parse("0002_idx.sql", 2, "idx", text)
	if err != nil {
		t.Fatal(err)
	}
	if !m.NoTransaction || !m.HasDown || len(m.Up) != 1 || len(m.Down) != 1 {
		t.Fatalf("parsed %+v", m)
	}
	if m.Down[0].Line != 6 {
		t.Errorf("down statement line = %d, want 6 (lines count from the top of the file)", m.Down[0].Line)
	}
	// Adding or editing the down part later must not count as drift.
	edited, _ := Parse("0002_idx.sql", 2, "idx", strings.Replace(text, "DROP INDEX CONCURRENTLY i;", "DROP INDEX CONCURRENTLY IF EXISTS i;", 1))
	if edited.Checksum != m.Checksum {
		t.Error("editing the down part changed the checksum")
	}
	changed, _ := Parse("0002_idx.sql", 2, "idx", strings.Replace(text, "(a)", "(b)", 1))
	if changed.Checksum == m.Checksum {
		t.Error("editing the up part kept the checksum")
	}
	// A directive inside a statement's text is not a directive.
	tx, _ := Parse("0003_x.sql", 3, "x", "select '-- migrator:no-transaction';\n")
	if tx.NoTransaction {
		t.Error("a directive inside a string switched the transaction off")
	}
}

// A comment that looks like a directive but is not one is refused, naming the line; directives
// inside a dollar-quoted body or a block comment are text, never honoured.
func TestDirectivesAreStrict(t *testing.T) {
	for _, tt := range []struct {
		name, text, want string
	}{
		{"space_after_colon", "select 1;\n-- migrator: down\nselect 2;\n", `:2: "-- migrator: down" is not a directive`},
		{"underscore", "-- migrator:no_transaction\nselect 1;\n", `:1: "-- migrator:no_transaction" is not a directive`},
		{"no_space", "--migrator:down\nselect 1;\n", `"--migrator:down" is not a directive`},
		{"capitalised", "-- Migrator:no-transaction\nselect 1;\n", "is not a directive"},
		{"not_alone", "select 1; -- migrator:no-transaction\n", "must stand alone on its line"},
		{"down_twice", "select 1;\n-- migrator:down\nselect 2;\n-- migrator:down\nselect 3;\n", "appears twice"},
		{"allow_without_reason", "-- migrator:allow table-rewrite\nselect 1;\n", "write -- migrator:allow RULE-ID: reason"},
		{"allow_empty_reason", "-- migrator:allow table-rewrite:\nselect 1;\n", "write -- migrator:allow RULE-ID: reason"},
		{"allow_upper_case_rule", "-- migrator:allow Table_Rewrite: small table\nselect 1;\n", "write -- migrator:allow RULE-ID: reason"},
		{"allow_not_alone", "select 1; -- migrator:allow table-rewrite: small table\n", "write -- migrator:allow RULE-ID: reason"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("0002_x.sql", 2, "x", tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "0002_x.sql") {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	for _, text := range []string{
		"do $$\n-- migrator:no-transaction\nbegin perform 1; end $$;\n",
		"/*\n-- migrator:no-transaction\n*/\nselect 1;\n",
		"select 1;\n/* -- migrator:down */\nselect 2;\n",
	} {
		m, err := Parse("0002_x.sql", 2, "x", text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if m.NoTransaction || m.HasDown {
			t.Errorf("%q: a directive inside a body or block comment was honoured", text)
		}
	}
}

func TestAllowDirective(t *testing.T) {
	m, err := Parse("0006_x.sql", 6, "x", "select 1;\n-- migrator:allow table-rewrite: the table holds 40 rows\nalter table t alter c type bigint;\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []Allow{{Rule: "table-rewrite", Reason: "the table holds 40 rows", Line: 2}}
	if !reflect.DeepEqual(m.Allows, want) {
		t.Errorf("Allows = %+v, want %+v", m.Allows, want)
	}
}

// An allow line may be added to a file that was applied: it is not part of the checksum.
func TestAllowLinesAreNotChecksummed(t *testing.T) {
	plain, err := Parse("0006_x.sql", 6, "x", "select 1;\nalter table t alter c type bigint;\n")
	if err != nil {
		t.Fatal(err)
	}
	allowed, err := Parse("0006_x.sql", 6, "x", "select 1;\n-- migrator:allow table-rewrite: 40 rows\nalter table t alter c type bigint;\n")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := Parse("0006_x.sql", 6, "x", "select 1;\n-- a comment\nalter table t alter c type bigint;\n")
	if plain.Checksum != allowed.Checksum {
		t.Error("adding an allow line changed the checksum")
	}
	if plain.Checksum == other.Checksum {
		t.Error("an ordinary comment no longer counts in the checksum")
	}
}
