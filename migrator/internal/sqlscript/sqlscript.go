// Package sqlscript splits PostgreSQL scripts into statements and points at the place in a
// script where the server reported an error.
package sqlscript

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Statement is one SQL statement of a script and where it starts.
type Statement struct {
	SQL  string // the statement without its terminating semicolon
	Line int    // 1-based line of the statement's first character in the script
}

// Comment is a "--" comment outside any statement text, string, dollar-quoted body or block
// comment, with the line it is on and its offset in the script.
type Comment struct {
	Text   string // the comment, from "--" to the end of its line, trimmed
	Line   int
	Offset int
	// Alone: nothing but white space precedes it on its line.
	Alone bool
}

// Split cuts a script into statements at top-level semicolons. It understands quoted strings,
// E” strings, quoted identifiers, dollar quoting and both comment styles, so a semicolon inside
// a function body or a string never ends a statement; nor does one inside parentheses (CREATE
// RULE ... DO ALSO (a; b)) or inside a SQL-standard function body (BEGIN ATOMIC ... END).
// Statements that hold only comments are dropped. A script whose last quote or comment is never
// closed is an error: running it would fail on the server with a less helpful message.
func Split(script string) ([]Statement, error) {
	stmts, _, err := Scan(script)
	return stmts, err
}

// Scan is Split that also returns the script's line comments, the place where directives live.
func Scan(script string) ([]Statement, []Comment, error) {
	// At most one statement per semicolon, plus the last: sized once, a large script's slice is
	// not copied as it grows.
	out := make([]Statement, 0, strings.Count(script, ";")+1)
	var comments []Comment
	start := -1 // byte offset of the current statement's first significant character
	line := 1
	startLine := 0
	parens := 0
	var words []string // the statement's words while they may still matter: a keyword below upper-cased, any other ""
	atomic := 0        // depth of BEGIN ATOMIC ... END (with CASE ... END inside it)
	flush := func(end int) {
		if start >= 0 {
			out = append(out, Statement{SQL: strings.TrimSpace(script[start:end]), Line: startLine})
		}
		start, parens, words, atomic = -1, 0, words[:0], 0 // the words' slice is reused: no garbage per statement
	}
	mark := func(i int) {
		if start < 0 {
			start, startLine = i, line
		}
	}
	for i := 0; i < len(script); {
		c := script[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
		case c == '-' && strings.HasPrefix(script[i:], "--"):
			end := lineCommentEnd(script, i)
			lineStart := strings.LastIndexByte(script[:i], '\n') + 1
			comments = append(comments, Comment{Text: strings.TrimSpace(script[i:end]), Line: line, Offset: i,
				Alone: strings.TrimSpace(script[lineStart:i]) == ""})
			i = end // the newline is counted by the loop
		case c == '/' && strings.HasPrefix(script[i:], "/*"):
			end, lines, err := skipBlockComment(script, i)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d: %w", line, err)
			}
			line += lines
			i = end
		case c == ';' && parens == 0 && atomic == 0:
			flush(i)
			i++
		case c == '\'' || c == '"':
			mark(i)
			end, lines, err := skipString(script, i)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d: %w", line, err)
			}
			line += lines
			i = end
		case c == '$':
			mark(i)
			tag, ok := dollarTag(script, i)
			if !ok || (i > 0 && isIdentChar(script[i-1])) {
				i++
				continue
			}
			end := dollarQuoteEnd(script, i, tag)
			if end < 0 {
				return nil, nil, fmt.Errorf("line %d: dollar-quoted string %s is never closed", line, tag)
			}
			line += strings.Count(script[i:end], "\n")
			i = end
		case isIdentChar(c) && !isIdentChar(prev(script, i)):
			mark(i)
			j := i
			for j < len(script) && isIdentChar(script[j]) {
				j++
			}
			word := keyword(script[i:j])
			switch {
			case atomic > 0 && (word == "CASE" || (word == "ATOMIC" && len(words) > 0 && words[len(words)-1] == "BEGIN")):
				atomic++
			case atomic > 0 && word == "END":
				atomic--
			case word == "ATOMIC" && len(words) > 0 && words[len(words)-1] == "BEGIN" && routine(words):
				atomic = 1
			}
			if len(words) < 64 {
				words = append(words, word)
			} else {
				words[len(words)-1] = word
			}
			i = j
		default:
			mark(i)
			switch c {
			case '(':
				parens++
			case ')':
				parens = max(parens-1, 0)
			}
			i++
		}
	}
	flush(len(script))
	if len(out) == 0 {
		out = nil
	}
	return out, comments, nil
}

// keyword is w upper-cased when it is a word the scan looks at (CREATE, OR, REPLACE, FUNCTION,
// PROCEDURE, BEGIN, ATOMIC, CASE, END), else "": no allocation per word, since the no-op run
// scans every migration file.
func keyword(w string) string {
	var candidates []string
	switch len(w) {
	case 2:
		candidates = []string{"OR"}
	case 3:
		candidates = []string{"END"}
	case 4:
		candidates = []string{"CASE"}
	case 5:
		candidates = []string{"BEGIN"}
	case 6:
		candidates = []string{"CREATE", "ATOMIC"}
	case 7:
		candidates = []string{"REPLACE"}
	case 8:
		candidates = []string{"FUNCTION"}
	case 9:
		candidates = []string{"PROCEDURE"}
	}
	for _, k := range candidates {
		if strings.EqualFold(w, k) {
			return k
		}
	}
	return ""
}

// routine: the statement creates a function or procedure (whose body may be BEGIN ATOMIC).
func routine(words []string) bool {
	if len(words) < 2 || words[0] != "CREATE" {
		return false
	}
	rest := words[1:]
	if len(rest) >= 2 && rest[0] == "OR" && rest[1] == "REPLACE" {
		rest = rest[2:]
	}
	return len(rest) > 0 && (rest[0] == "FUNCTION" || rest[0] == "PROCEDURE")
}

func prev(s string, i int) byte {
	if i <= 0 {
		return 0
	}
	return s[i-1]
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// dollarTag returns the $tag$ opening at s[i], if one does.
func dollarTag(s string, i int) (string, bool) {
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		if c == '$' {
			return s[i : j+1], true
		}
		if !isIdentChar(c) || (j == i+1 && c >= '0' && c <= '9') {
			return "", false
		}
	}
	return "", false
}

// lineCommentEnd is where the "--" comment at s[i] ends: at its newline, or at the end of s.
func lineCommentEnd(s string, i int) int {
	if end := strings.IndexByte(s[i:], '\n'); end >= 0 {
		return i + end
	}
	return len(s)
}

// skipString skips the string ('...', E'...' with backslash escapes) or quoted identifier
// ("...") that opens at s[i].
func skipString(s string, i int) (end, lines int, err error) {
	q := s[i]
	escapes := q == '\'' && i > 0 && (s[i-1] == 'E' || s[i-1] == 'e') && !isIdentChar(prev(s, i-1))
	return skipQuoted(s, i, q, escapes)
}

// dollarQuoteEnd is the end of the dollar-quoted string that tag opens at s[i], or -1 when it
// is never closed.
func dollarQuoteEnd(s string, i int, tag string) int {
	body := strings.Index(s[i+len(tag):], tag)
	if body < 0 {
		return -1
	}
	return i + len(tag) + body + len(tag)
}

func skipQuoted(s string, i int, q byte, backslashEscapes bool) (end, lines int, err error) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\n':
			lines++
		case '\\':
			if backslashEscapes {
				j++
				if j < len(s) && s[j] == '\n' { // an escaped line break is still a line
					lines++
				}
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1, lines, nil
		}
	}
	what := "string"
	if q == '"' {
		what = "quoted identifier"
	}
	return 0, 0, fmt.Errorf("%s is never closed", what)
}

// skipBlockComment skips a /* */ comment; PostgreSQL lets them nest.
func skipBlockComment(s string, i int) (end, lines int, err error) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch {
		case strings.HasPrefix(s[j:], "/*"):
			depth++
			j++
		case strings.HasPrefix(s[j:], "*/"):
			depth--
			j++
			if depth == 0 {
				return j + 1, lines, nil
			}
		case s[j] == '\n':
			lines++
		}
	}
	return 0, 0, fmt.Errorf("block comment is never closed")
}

// Locate turns a 1-based character position inside st (as PostgreSQL reports it) into a
// 1-based line and column in the whole script, and returns that script line.
func Locate(st Statement, position int) (line, col int, text string) {
	line, col = st.Line, 1
	lineStart := 0
	chars := 0
	for i, r := range st.SQL {
		chars++
		if chars == position {
			col = utf8.RuneCountInString(st.SQL[lineStart:i]) + 1
			break
		}
		if r == '\n' {
			line++
			lineStart = i + 1
		}
	}
	end := strings.IndexByte(st.SQL[lineStart:], '\n')
	if end < 0 {
		end = len(st.SQL) - lineStart
	}
	return line, col, st.SQL[lineStart : lineStart+end]
}

// Caret renders a script line with a caret under column col, the way tern and psql point at
// the failing token.
func Caret(line, col int, text string) string {
	num := fmt.Sprintf("%5d | ", line)
	pad := strings.Repeat(" ", len(num)-2) + "| "
	prefix := []rune(text)
	if col-1 < len(prefix) {
		prefix = prefix[:col-1]
	}
	spaces := strings.Map(func(r rune) rune {
		if r == '\t' {
			return '\t'
		}
		return ' '
	}, string(prefix))
	return num + text + "\n" + pad + spaces + "^"
}

// QuoteLiteral writes s as an SQL string constant ('it”s'), for the few statements that take
// no parameters (DDL, COMMENT, a generated script).
func QuoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Normalized is a statement's text as it may leave the database it was read from: its comments
// removed (pg_stat_statements keeps them, and a comment can hold anything) and, when a constant
// is left in it, the first one's kind in leftover ("a string constant", "a number"), never its
// value: then text, which still holds it, must stay where it is. pg_stat_statements replaces each
// constant with $1, $2, ...; one that remains means the text was stored before it could be
// normalized (its entry made after a reset or an eviction between parse and execution), or sits
// where the server never replaces one (ORDER BY 1, a type modifier).
func Normalized(sql string) (text string, leftover string) {
	var b strings.Builder
	b.Grow(len(sql))
	found := func(kind string) {
		if leftover == "" {
			leftover = kind
		}
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			b.WriteByte(' ')
			i = lineCommentEnd(sql, i)
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			end, _, err := skipBlockComment(sql, i)
			if err != nil {
				return strings.TrimSpace(b.String()), "a comment that is never closed"
			}
			b.WriteByte(' ')
			i = end
		case c == '\'' || c == '"':
			end, _, err := skipString(sql, i)
			if err != nil {
				return strings.TrimSpace(b.String() + sql[i:]), "a quote that is never closed"
			}
			if c == '\'' {
				found("a string constant")
			}
			b.WriteString(sql[i:end])
			i = end
		case c == '$' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9':
			j := i + 1
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			b.WriteString(sql[i:j]) // a parameter
			i = j
		case c == '$':
			if tag, ok := dollarTag(sql, i); ok && !isIdentChar(prev(sql, i)) {
				end := dollarQuoteEnd(sql, i, tag)
				if end < 0 {
					return strings.TrimSpace(b.String() + sql[i:]), "a dollar-quoted string that is never closed"
				}
				found("a string constant")
				b.WriteString(sql[i:end])
				i = end
				continue
			}
			b.WriteByte(c)
			i++
		case isIdentChar(c) && !isIdentChar(prev(sql, i)):
			if c >= '0' && c <= '9' {
				found("a number")
			}
			j := i
			for j < len(sql) && isIdentChar(sql[j]) {
				j++
			}
			b.WriteString(sql[i:j])
			i = j
		case c == '.' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9' && !isIdentChar(prev(sql, i)):
			found("a number")
			b.WriteByte(c)
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return strings.TrimSpace(b.String()), leftover
}
