package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// Directives recognised in migration files, each alone on its line.
const (
	DirectiveDown          = "-- migrator:down"
	DirectiveNoTransaction = "-- migrator:no-transaction"
	// DirectivePostDeploy marks a contract step (expand and contract): it drops or renames what
	// the application's running version still uses, so `migrator up` applies it only with
	// --post-deploy, which the pipeline passes after the application's rollout.
	DirectivePostDeploy = "-- migrator:post-deploy"
	// DirectiveAllow starts "-- migrator:allow RULE-ID: reason": migrator lint reports the rule's
	// finding on the next statement as allowed instead of failing.
	DirectiveAllow = "-- migrator:allow"
)

// allowDirective is the exact shape of an allow directive.
var allowDirective = regexp.MustCompile(`^-- migrator:allow ([a-z][a-z0-9]*(?:-[a-z0-9]+)*): (\S.*)$`)

// Allow is a "-- migrator:allow RULE-ID: reason" line: it covers the first statement after it.
type Allow struct {
	Rule   string
	Reason string
	Line   int
}

// FilePattern is the shape of a migration file name: a four-digit version, then a snake_case name.
var FilePattern = regexp.MustCompile(`^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$`)

// ErrNoMigrations is returned by Load for a directory without migration files.
var ErrNoMigrations = errors.New("no migration files (NNNN_name.sql) found")

// Migration is one versioned SQL file.
type Migration struct {
	Version       int
	Name          string // the part after the version, e.g. "baseline"
	File          string // e.g. "0001_baseline.sql"
	Up            []sqlscript.Statement
	UpSQL         string
	Down          []sqlscript.Statement
	HasDown       bool // a down part is present (it may hold no statement: nothing to undo)
	NoTransaction bool
	PostDeploy    bool    // the file has a -- migrator:post-deploy line: it waits for the rollout
	Allows        []Allow // in line order
	// Checksum is the hex SHA-256 of the up part exactly as written: that is what ran, so that
	// is what must not change once applied. Adding a down part later is allowed, and so is an
	// allow directive line (it changes what lint reports, not what runs).
	Checksum string
}

// ID names a migration in messages, e.g. "0004_check_constraints".
func (m Migration) ID() string { return strings.TrimSuffix(m.File, ".sql") }

// Load reads every NNNN_name.sql file at the root of fsys, strictly: an unexpected .sql name, a
// duplicate version or a gap in the numbering is an error, before any database is touched.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		lower := strings.ToLower(name)
		switch {
		case e.IsDir() || Companions[name]:
			continue // the schema snapshots and the application's statements live beside the migrations
		case !startsWithDigit(name) && !strings.Contains(lower, ".sql"):
			continue // not SQL: the Go files of the embedded migrations, a README
		case !startsWithDigit(name):
			// notes.sql, Schema.sql: skipping it would hide a file someone meant to run
			return nil, fmt.Errorf("%s: not a migration name (0007_add_thing.sql) nor one of the files read beside the migrations "+
				"(schema.sql, baseline-schema.sql, queries.sql): rename it, or move it out of the directory", name)
		}
		m := FilePattern.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("migration file %s: name must look like 0007_add_thing.sql (four digits, underscore, lower-case snake_case, "+
				"lower-case .sql); rename it, or move it out of the directory (a backup copy too)", name)
		}
		// Only a regular file is opened: a symlink may point anywhere (/proc/self/environ), a FIFO
		// would block the run, a device would never end.
		if e.Type()&fs.ModeType != 0 {
			return nil, fmt.Errorf("migration file %s is not a regular file (%s): migrations must be plain files inside the directory", name, fileKind(e.Type()))
		}
		v, _ := strconv.Atoi(m[1])
		if v == 0 {
			return nil, fmt.Errorf("migration file %s: versions start at 0001", name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration files %s and %s share version %04d: renumber one of them", other, name, v)
		}
		seen[v] = name
		data, err := readText(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		mig, err := Parse(name, v, m[2], data)
		if err != nil {
			return nil, err
		}
		out = append(out, mig)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %04d next, the numbering must have no gaps", m.File, i+1)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoMigrations
	}
	return out, nil
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// Companions are the files read beside the migrations: the schema snapshots and lint's
// application statements.
var Companions = map[string]bool{"schema.sql": true, "baseline-schema.sql": true, "queries.sql": true}

// fileKind names what a non-regular directory entry is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// nearDirectiveShape is a line comment shaped like a directive: a word, a colon or a space, and
// a directive's word ("-- migratior:down", "-- migrate:down", "-- migrator down", "-- +goose Down").
var nearDirectiveShape = regexp.MustCompile(`(?i)^--\s*\+?([a-z]+)\s*(?::\s*|\s+)(up|down|no-?transaction|post-?deploy|allow)\b`)

// nearDirective reports a comment that is almost a migrator directive (a misspelt "migrator") or
// another tool's (dbmate's migrate:, goose's +goose): taken for a comment, its down part would
// run as part of up.
func nearDirective(text string) bool {
	g := nearDirectiveShape.FindStringSubmatch(text)
	if g == nil {
		return false
	}
	w := strings.ToLower(g[1])
	return w == "goose" || w == "migrate" || w == "migration" || editDistance(w, "migrator") <= 2
}

// editDistance is the Levenshtein distance of two short ASCII words.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// directiveLike is any line comment that looks meant for the migrator: "--migrator:",
// "-- Migrator :", "-- migrator: down". Only the exact directives are honoured; anything else
// that looks like one is refused, so a typo never silently changes how a file runs.
var directiveLike = regexp.MustCompile(`(?i)^--\s*migrator\s*:`)

// Parse splits one migration file into its up and down parts and reads its directives: line
// comments alone on their line, outside strings, dollar-quoted bodies and block comments.
func Parse(file string, version int, name, text string) (Migration, error) {
	m := Migration{Version: version, Name: name, File: file}
	all, comments, err := sqlscript.Scan(text)
	if err != nil {
		return m, fmt.Errorf("migration %s: %w", file, err)
	}
	downAt, noTx := -1, -1
	for _, c := range comments {
		if !directiveLike.MatchString(c.Text) {
			if c.Alone && nearDirective(c.Text) {
				return m, fmt.Errorf("migration %s:%d: %q looks like a directive but is not one (taken for a comment, a down part would run "+
					"as part of up): the directives are %q, %q and %q, each alone on its line, spelt exactly so; fix it or reword the comment",
					file, c.Line, c.Text, DirectiveDown, DirectiveNoTransaction, DirectivePostDeploy)
			}
			continue
		}
		switch {
		case c.Text == DirectiveDown && c.Alone && downAt < 0:
			downAt = c.Offset
		case c.Text == DirectiveNoTransaction && c.Alone && (downAt < 0 || c.Offset < downAt):
			noTx = c.Offset
		case c.Text == DirectiveNoTransaction && c.Alone:
			// the down part may say it too; the up part's setting decides how up runs
		case c.Text == DirectivePostDeploy && c.Alone:
			m.PostDeploy = m.PostDeploy || downAt < 0 || c.Offset < downAt
		case allowDirective.MatchString(c.Text) && c.Alone:
			g := allowDirective.FindStringSubmatch(c.Text)
			m.Allows = append(m.Allows, Allow{Rule: g[1], Reason: strings.TrimSpace(g[2]), Line: c.Line})
		case strings.HasPrefix(c.Text, DirectiveAllow):
			return m, fmt.Errorf("migration %s:%d: %q: write %s RULE-ID: reason (a rule id from `migrator lint --help`, "+
				"a colon, then why the finding is acceptable), alone on its line", file, c.Line, c.Text, DirectiveAllow)
		default:
			why := "is not a directive"
			if (c.Text == DirectiveDown || c.Text == DirectiveNoTransaction || c.Text == DirectivePostDeploy) && !c.Alone {
				why = "must stand alone on its line"
			} else if c.Text == DirectiveDown {
				why = "appears twice"
			}
			return m, fmt.Errorf("migration %s:%d: %q %s: the directives are %q, %q and %q, each alone on its line, "+
				"spelt exactly so (and %q RULE-ID: reason); fix it or reword the comment", file, c.Line, c.Text, why, DirectiveDown, DirectiveNoTransaction, DirectivePostDeploy, DirectiveAllow)
		}
	}
	up, down := text, ""
	if downAt >= 0 {
		up, down, m.HasDown = text[:downAt], text[downAt:], true
	}
	m.NoTransaction = noTx >= 0
	m.Checksum = checksum(up, comments)
	if !m.HasDown {
		m.Up = all // the whole file is the up part: already split
	} else if m.Up, err = sqlscript.Split(up); err != nil {
		return m, fmt.Errorf("migration %s: %w", file, err)
	}
	if len(m.Up) == 0 {
		return m, fmt.Errorf("migration %s: the up part has no SQL statement", file)
	}
	m.UpSQL = up
	if m.HasDown {
		// Keep line numbers of the down part relative to the whole file.
		padded := strings.Repeat("\n", strings.Count(up, "\n")) + down
		if m.Down, err = sqlscript.Split(padded); err != nil {
			return m, fmt.Errorf("migration %s (down part): %w", file, err)
		}
	}
	return m, nil
}

// checksum is the hex SHA-256 of up without its allow directive lines, hashed piece by piece
// (no copy of the file).
func checksum(up string, comments []sqlscript.Comment) string {
	h := sha256.New()
	last := 0
	for _, c := range comments {
		if c.Offset >= len(up) || !c.Alone || !allowDirective.MatchString(c.Text) {
			continue
		}
		start := strings.LastIndexByte(up[:c.Offset], '\n') + 1
		end := len(up)
		if i := strings.IndexByte(up[c.Offset:], '\n'); i >= 0 {
			end = c.Offset + i + 1
		}
		hashString(h, up[last:start])
		last = end
	}
	hashString(h, up[last:])
	return hex.EncodeToString(h.Sum(nil))
}

// hashString writes s to h 64 KiB at a time: the hash takes bytes, and converting all of a
// large file at once would copy it whole.
func hashString(h hash.Hash, s string) {
	for len(s) > 0 {
		n := min(len(s), 64<<10)
		h.Write([]byte(s[:n]))
		s = s[n:]
	}
}

// readText reads a file into a string with one allocation of its size (fs.ReadFile and a
// conversion would hold two copies).
func readText(fsys fs.FS, name string) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		b.Grow(int(st.Size()) + 1)
	}
	if _, err := io.Copy(&b, f); err != nil {
		return "", err
	}
	return b.String(), nil
}
