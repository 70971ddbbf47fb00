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

// Split cuts a script into statements at top-level semicolons. It understands quoted strings,
// E” strings, quoted identifiers, dollar quoting and both comment styles, so a semicolon inside
// a function body or a string never ends a statement. Statements that hold only comments are
// dropped. A script whose last quote or comment is never closed is an error: running it would
// fail on the server with a less helpful message.
func Split(script string) ([]Statement, error) {
	var out []Statement
	start := -1 // byte offset of the current statement's first significant character
	line := 1
	startLine := 0
	flush := func(end int) {
		if start >= 0 {
			out = append(out, Statement{SQL: strings.TrimSpace(script[start:end]), Line: startLine})
		}
		start = -1
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
			end := strings.IndexByte(script[i:], '\n')
			if end < 0 {
				i = len(script)
			} else {
				i += end // the newline is counted by the loop
			}
		case c == '/' && strings.HasPrefix(script[i:], "/*"):
			end, lines, err := skipBlockComment(script, i)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			line += lines
			i = end
		case c == ';':
			flush(i)
			i++
		case c == '\'' || c == '"':
			mark(i)
			escapes := c == '\'' && i > 0 && (script[i-1] == 'E' || script[i-1] == 'e') && !isIdentChar(prev(script, i-1))
			end, lines, err := skipQuoted(script, i, c, escapes)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
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
			body := strings.Index(script[i+len(tag):], tag)
			if body < 0 {
				return nil, fmt.Errorf("line %d: dollar-quoted string %s is never closed", line, tag)
			}
			end := i + len(tag) + body + len(tag)
			line += strings.Count(script[i:end], "\n")
			i = end
		default:
			mark(i)
			i++
		}
	}
	flush(len(script))
	return out, nil
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

func skipQuoted(s string, i int, q byte, backslashEscapes bool) (end, lines int, err error) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\n':
			lines++
		case '\\':
			if backslashEscapes {
				j++
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
