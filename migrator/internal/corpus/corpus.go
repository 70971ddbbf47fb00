// Package corpus is the application's statements, the way pg_stat_statements normalizes them
// (literals replaced by $1, $2, ...): the file migrations/queries.sql that `migrator lint` runs
// before and after each migration to prove the running application keeps working, and that
// `make bench` drives as its workload. Each statement may carry a name and a call count:
//
//	-- name: cart_by_customer
//	-- calls: 1200
//	SELECT ... WHERE c.customer_id = $1;
package corpus

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// Query is one statement of the application's.
type Query struct {
	Name  string // from "-- name: NAME" above it; captured statements are named q<queryid>
	SQL   string
	Calls int64 // from "-- calls: N": how often production ran it when it was captured
	Line  int   // where the statement starts in the file
	// File is where it was read from (queries.sql, or a stored capture).
	File string
	// Captured: it came from production's statements (lint --production-statements), not from
	// queries.sql. One lint cannot run is listed as not checked, not a finding: nobody wrote it
	// into the corpus to take it out again.
	Captured bool
}

var (
	nameLine  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^-- name: ([A-Za-z0-9_.-]+)$`) })
	callsLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^-- calls: ([0-9]+)$`) })
	// anyTag is what looks meant as a tag; a misspelt one is refused rather than ignored.
	anyTag = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^--\s*(name|calls)\s*:`) })
)

// Parse reads a corpus file. The "-- name:" and "-- calls:" lines apply to the next statement;
// names must be unique.
func Parse(file, text string) ([]Query, error) {
	stmts, comments, err := sqlscript.Scan(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []Query
	seen := map[string]int{}
	ci := 0
	for _, st := range stmts {
		q := Query{SQL: strings.TrimSpace(st.SQL), Line: st.Line, File: file}
		for ; ci < len(comments) && comments[ci].Line < st.Line; ci++ {
			c := comments[ci]
			switch {
			case nameLine().MatchString(c.Text):
				q.Name = nameLine().FindStringSubmatch(c.Text)[1]
			case callsLine().MatchString(c.Text):
				q.Calls, _ = strconv.ParseInt(callsLine().FindStringSubmatch(c.Text)[1], 10, 64)
			case anyTag().MatchString(c.Text):
				return nil, fmt.Errorf("%s:%d: %q: write \"-- name: NAME\" or \"-- calls: N\", alone on the line above the statement", file, c.Line, c.Text)
			}
		}
		if q.Name == "" {
			q.Name = fmt.Sprintf("line%d", st.Line)
		}
		if prev, dup := seen[q.Name]; dup {
			return nil, fmt.Errorf("%s:%d: the name %q is already used at line %d: each statement needs its own", file, st.Line, q.Name, prev)
		}
		seen[q.Name] = st.Line
		out = append(out, q)
	}
	return out, nil
}

// Format writes a corpus file: header comment lines, then each statement with its tags.
func Format(header string, qs []Query) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		if line != "" {
			b.WriteString("-- " + strings.TrimPrefix(strings.TrimPrefix(line, "--"), " ") + "\n")
		}
	}
	for _, q := range qs {
		b.WriteString("\n-- name: " + q.Name + "\n")
		if q.Calls > 0 {
			fmt.Fprintf(&b, "-- calls: %d\n", q.Calls)
		}
		b.WriteString(q.SQL + ";\n")
	}
	return b.String()
}

// Merge adds captured statements to a corpus: a statement already there (the same text, up to
// white space) keeps its name and takes the new call count; a new one is appended. The result
// holds each statement once; new ones come in descending call count.
func Merge(have, captured []Query) []Query {
	out := append([]Query(nil), have...)
	index := map[string]int{}
	for i, q := range out {
		index[normalize(q.SQL)] = i
	}
	var added []Query
	for _, q := range captured {
		key := normalize(q.SQL)
		if i, ok := index[key]; ok {
			out[i].Calls = q.Calls
			continue
		}
		index[key] = -1
		added = append(added, q)
	}
	sort.SliceStable(added, func(i, j int) bool { return added[i].Calls > added[j].Calls })
	names := map[string]bool{}
	for _, q := range out {
		names[q.Name] = true
	}
	for _, q := range added {
		for base, n := q.Name, 2; names[q.Name]; n++ {
			q.Name = fmt.Sprintf("%s_%d", base, n)
		}
		names[q.Name] = true
		out = append(out, q)
	}
	return out
}

var space = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s+`) })

// normalize is the statement with runs of white space as one space, for comparing texts.
func normalize(sql string) string {
	return strings.TrimSuffix(strings.TrimSpace(space().ReplaceAllString(sql, " ")), ";")
}
