package lint

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the report for a pull request comment (CodeCommit's console renders
// CommonMark with tables): the verdict first, then per file its statements, the locks each held
// and for how long, its findings with their fix, and what was not checked and why. Plain Markdown
// only (no HTML), so that it reads the same as text in an email notification.
func (r *Report) WriteMarkdown(w io.Writer) error {
	m := &markdown{w: w}
	verdict := "✅ **online-safe**"
	if r.Failed > 0 {
		verdict = "❌ **NOT online-safe**"
	}
	m.line("%s: %d finding(s) failed, %d allowed, in %d file(s)", verdict, r.Failed, r.Allowed, len(r.Files))
	m.line("")
	rows := fmt.Sprintf("%d rows per table", r.Rows)
	if r.Shape != "" {
		rows = "each table's rows from production's shape (" + r.Shape + ")"
	}
	m.line("- linted on PostgreSQL %s, %s, in %s", r.Server, rows, round(r.Took))
	m.line("- budgets: a lock that blocks reads or writes is held at most %s; the application's reads and writes wait at most %s", r.MaxLockHold, r.MaxBlock)
	if r.Dataset != "" {
		m.line("- dataset: %s", mdText(r.Dataset))
	}
	if r.Queries > 0 {
		m.line("- application: %d statement(s) of queries.sql run before and after every statement", r.Queries)
	} else {
		m.line("- application: **not checked**, no statements in queries.sql: lint cannot tell whether the running application keeps working")
	}
	for _, f := range r.Files {
		if err := m.file(f); err != nil {
			return err
		}
	}
	if stopped := r.stoppedAt(); stopped != "" {
		m.line("")
		m.line("Lint stopped at `%s`: it did not apply, so no file after it was linted.", stopped)
	}
	return m.err
}

// stoppedAt names the file lint stopped at because it did not apply ("" when all applied).
func (r *Report) stoppedAt() string {
	if n := len(r.Files); n > 0 && r.Files[n-1].Error != "" {
		return r.Files[n-1].File
	}
	return ""
}

type markdown struct {
	w   io.Writer
	err error
}

func (m *markdown) line(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format+"\n", args...)
	}
}

func (m *markdown) file(f *File) error {
	failed, allowed := f.counts()
	if f.failsOnItsOwn() {
		failed++
	}
	mark := "✅"
	if failed > 0 {
		mark = "❌"
	}
	var mode []string
	if f.NoTransaction {
		mode = append(mode, "no transaction (run twice)")
	} else {
		mode = append(mode, "one transaction")
	}
	if f.PostDeploy {
		mode = append(mode, "**post-deploy**: runs after the application's rollout")
	}
	m.line("")
	m.line("### %s `%s`", mark, f.File)
	m.line("")
	m.line("%s; %d failed, %d allowed; %s", strings.Join(mode, ", "), failed, allowed, round(f.Took))
	if len(f.Loaded) > 0 {
		var parts []string
		for _, t := range sortedKeys(f.Loaded) {
			parts = append(parts, fmt.Sprintf("%s %d", t, f.Loaded[t]))
		}
		m.line("")
		m.line("Rows before it: %s.", strings.Join(parts, ", "))
	}
	for _, n := range f.DatasetNotes {
		m.line("")
		m.line("The dataset could not fill %s.", mdText(n))
	}
	if len(f.Statements) > 0 {
		m.line("")
		m.line("| line | statement | locks (held -> projected to production) | rewrote | read in full | rows read/written | application waited | time -> projected | verdict |")
		m.line("| ---: | --- | --- | --- | --- | --- | --- | ---: | --- |")
		for _, s := range f.Statements {
			m.line("| %d | %s | %s | %s | %s | %s | %s | %s | %s |", s.Line, mdCode(s.SQL), mdCell(locksText(s.Locks)), mdCell(listText(s.Rewrote)),
				mdCell(listText(s.Scanned)), mdCell(touchedText(s.Touched)), mdCell(waitsText(s.Blocked)), mdCell(timeText(s)), mdCell(s.markdownVerdict()))
		}
	}
	if f.Error != "" {
		m.line("")
		m.line("**Did not apply**: %s", mdText(f.Error))
		if f.failsOnItsOwn() {
			m.line("- fix: make it apply on a copy of the schema (`make run`, then `migrator up`)")
		}
	}
	var findings []string
	for _, s := range f.Statements {
		for _, fd := range s.Findings {
			if fd.Allowed != "" {
				findings = append(findings, fmt.Sprintf("- allowed **%s**, line %d: %s\n  - allowed because: %s", fd.Rule, s.Line, mdText(fd.Detail), mdText(fd.Allowed)))
				continue
			}
			why, fix := fd.explain()
			findings = append(findings, fmt.Sprintf("- ❌ **%s**, line %d: %s\n  - why: %s\n  - fix: %s", fd.Rule, s.Line, mdText(fd.Detail), mdText(why), mdText(fix)))
		}
	}
	if len(findings) > 0 {
		m.line("")
		m.line("Findings:")
		m.line("")
		for _, f := range findings {
			m.line("%s", f)
		}
	}
	if len(f.NotChecked) > 0 {
		m.line("")
		m.line("Not checked (the application's statement already failed before this file, so lint cannot tell what the file does to it):")
		m.line("")
		for _, name := range sortedKeys(f.NotChecked) {
			m.line("- `%s`: %s", name, mdText(f.NotChecked[name]))
		}
	}
	return m.err
}

// markdownVerdict is the statement's verdict with a mark a reader finds at a glance.
func (s *Statement) markdownVerdict() string {
	v := s.verdict()
	switch {
	case strings.Contains(v, "FAIL"):
		return "❌ " + v
	case v == "error":
		return "❌ error: " + s.Error
	}
	return v
}

// mdCode puts s in a code span that survives any backtick in it, inside a table cell.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	return fence + " " + strings.ReplaceAll(s, "|", `\|`) + " " + fence
}

// mdCell escapes what would end a table cell or a line.
func mdCell(s string) string {
	return strings.ReplaceAll(mdText(s), "|", `\|`)
}

// mdText keeps text on one line and stops it from opening HTML or emphasis by accident
// (underscores inside words emphasize nothing in CommonMark).
func mdText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "*", `\*`).Replace(s)
}
