package sqlscript

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []Statement
	}{
		{"two_statements", "select 1;\nselect 2;\n", []Statement{{"select 1", 1}, {"select 2", 2}}},
		{"no_final_semicolon", "select 1;\n\nselect 2", []Statement{{"select 1", 1}, {"select 2", 3}}},
		{"comments_only_dropped", "-- header\n/* block */\n-- migrator:no-transaction\n", nil},
		{"semicolon_in_string", "insert into t values ('a;b');", []Statement{{"insert into t values ('a;b')", 1}}},
		{"doubled_quote", "select 'it''s; fine';", []Statement{{"select 'it''s; fine'", 1}}},
		{"escape_string", `select E'\'; still';`, []Statement{{`select E'\'; still'`, 1}}},
		{"backslash_is_literal_in_plain_string", `select '\'; select 2;`, []Statement{{`select '\'`, 1}, {"select 2", 1}}},
		{"quoted_identifier", `select 1 as "a;b";`, []Statement{{`select 1 as "a;b"`, 1}}},
		{"dollar_body", "do $$\nbegin\n  perform 1;\nend\n$$;\nselect 3;", []Statement{{"do $$\nbegin\n  perform 1;\nend\n$$", 1}, {"select 3", 6}}},
		{"tagged_dollar", "create function f() returns int as $fn$ select 1; $fn$ language sql;", []Statement{{"create function f() returns int as $fn$ select 1; $fn$ language sql", 1}}},
		{"positional_parameter_is_not_a_tag", "select $1; select 2;", []Statement{{"select $1", 1}, {"select 2", 1}}},
		{"comment_with_semicolon", "select 1 -- not; the end\n;", []Statement{{"select 1 -- not; the end", 1}}},
		{"nested_block_comment", "/* a /* b; */ c; */ select 1;", []Statement{{"select 1", 1}}},
		{"line_after_multiline_string", "select 'a\nb';\nselect 2;", []Statement{{"select 'a\nb'", 1}, {"select 2", 3}}},
		{"line_after_escaped_line_break", "select E'a\\\nb';\nselect 2;", []Statement{{"select E'a\\\nb'", 1}, {"select 2", 3}}},
		{"begin_atomic_body", "CREATE FUNCTION f(x int) RETURNS text LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 'p' ELSE 'n' END;\n  SELECT 'x';\nEND;\nselect 2;",
			[]Statement{{"CREATE FUNCTION f(x int) RETURNS text LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 'p' ELSE 'n' END;\n  SELECT 'x';\nEND", 1}, {"select 2", 6}}},
		{"begin_transaction_still_splits", "BEGIN;\nselect 1;\nEND;", []Statement{{"BEGIN", 1}, {"select 1", 2}, {"END", 3}}},
		{"create_rule_action_list", "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nselect 2;",
			[]Statement{{"CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))", 1}, {"select 2", 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.script)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split(%q)\n got %#v\nwant %#v", tt.script, got, tt.want)
			}
		})
	}
}

func TestSplitUnterminated(t *testing.T) {
	for _, script := range []string{"select 'abc", `select "abc`, "do $$ begin", "/* never", "select 1;\nselect 'x"} {
		if _, err := Split(script); err == nil || !strings.Contains(err.Error(), "never closed") {
			t.Errorf("Split(%q) error = %v, want 'never closed'", script, err)
		}
	}
}

func TestLocateAndCaret(t *testing.T) {
	st := Statement{SQL: "ALTER TABLE orders\n    ADD CONSTRAINT x CHECK (totl >= 0)", Line: 10}
	pos := strings.Index(st.SQL, "totl") + 1
	line, col, text := Locate(st, pos)
	if line != 11 || col != 29 || text != "    ADD CONSTRAINT x CHECK (totl >= 0)" {
		t.Fatalf("Locate = %d:%d %q", line, col, text)
	}
	want := "   11 |     ADD CONSTRAINT x CHECK (totl >= 0)\n      |                             ^"
	if got := Caret(line, col, text); got != want {
		t.Errorf("Caret =\n%s\nwant\n%s", got, want)
	}
}

func TestScanReportsTopLevelComments(t *testing.T) {
	script := "-- head\nselect 1; -- trailing\n/* -- in block */\nselect $$\n-- in body\n$$;\n  -- indented\n"
	_, comments, err := Scan(script)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range comments {
		got = append(got, fmt.Sprintf("%d:%v:%s", c.Line, c.Alone, c.Text))
	}
	want := []string{"1:true:-- head", "2:false:-- trailing", "7:true:-- indented"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("comments = %q, want %q", got, want)
	}
}

// What leaves a database as a captured statement: comments gone, and any text still holding a
// constant refused by kind, without the constant itself.
func TestNormalized(t *testing.T) {
	for _, tc := range []struct{ in, text, leftover string }{
		{"SELECT * FROM t WHERE a = $1 AND b = $12", "SELECT * FROM t WHERE a = $1 AND b = $12", ""},
		{"/* token=s3cr3t */ SELECT a FROM t WHERE b = $1 -- password hunter2", "SELECT a FROM t WHERE b = $1", ""},
		{"SELECT a /* outer /* nested */ still */ FROM t1", "SELECT a   FROM t1", ""},
		{`SELECT "col--x", "a'b" FROM t`, `SELECT "col--x", "a'b" FROM t`, ""},
		{"SELECT a FROM t WHERE b = 'secret' -- c", "SELECT a FROM t WHERE b = 'secret'", "a string constant"},
		{"SELECT a FROM t WHERE b = E'sec\\'ret' AND c = 1", "SELECT a FROM t WHERE b = E'sec\\'ret' AND c = 1", "a string constant"},
		{"SELECT a FROM t WHERE b = $$secret$$", "SELECT a FROM t WHERE b = $$secret$$", "a string constant"},
		{"SELECT a FROM t WHERE b = $tag$se'cret$tag$", "SELECT a FROM t WHERE b = $tag$se'cret$tag$", "a string constant"},
		{"SELECT a FROM t WHERE id = 4111111111111111", "SELECT a FROM t WHERE id = 4111111111111111", "a number"},
		{"SELECT a FROM t WHERE x > .5", "SELECT a FROM t WHERE x > .5", "a number"},
		{"SELECT * FROM t ORDER BY 1", "SELECT * FROM t ORDER BY 1", "a number"},
		{"SELECT x1, t2.y_3 FROM t2", "SELECT x1, t2.y_3 FROM t2", ""},
		{"SELECT a FROM t /* never closed", "SELECT a FROM t", "a comment that is never closed"},
	} {
		text, leftover := Normalized(tc.in)
		if text != tc.text || leftover != tc.leftover {
			t.Errorf("Normalized(%q) = %q, %q; want %q, %q", tc.in, text, leftover, tc.text, tc.leftover)
		}
	}
}
