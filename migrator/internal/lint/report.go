package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Formats are the report's renderers, by the name --format takes; each writes the same Report.
var Formats = map[string]func(*Report, io.Writer) error{
	"text": (*Report).WriteText, "json": (*Report).WriteJSON, "markdown": (*Report).WriteMarkdown, "junit": (*Report).WriteJUnit,
}

// WriteText writes the report as a table per file, then each finding with its reason and fix.
func (r *Report) WriteText(w io.Writer) error {
	rows := fmt.Sprintf("%d rows per table", r.Rows)
	if r.Shape != "" {
		rows = "each table's rows from a shape"
	}
	fmt.Fprintf(w, "migrator lint: PostgreSQL %s, %s, %d file(s) in %s\n", r.Server, rows, len(r.Files), round(r.Took))
	fmt.Fprintf(w, "budgets: locks that block reads or writes held at most %s (--max-lock-hold); the application's reads and writes wait at most %s (--max-block)\n",
		r.MaxLockHold, r.MaxBlock)
	if r.Shape != "" {
		fmt.Fprintf(w, "dataset shaped like production: %s\n", r.Shape)
	}
	if r.Dataset != "" {
		fmt.Fprintf(w, "dataset: %s\n", r.Dataset)
	}
	for _, n := range r.DatasetNotes {
		fmt.Fprintf(w, "dataset could not fill %s\n", n)
	}
	fmt.Fprintf(w, "production: holds, waits and scans that grow with a table's rows are projected to its rows in production (%s; %s rows where it does not say)\n",
		map[bool]string{true: "the shape", false: "no shape"}[r.Shape != ""], thousands(r.ProductionRows))
	if r.Queries > 0 {
		fmt.Fprintf(w, "application: %d statement(s) of queries.sql prepared before each file, as a running service keeps them, and executed after every statement with values from the dataset\n", r.Queries)
	} else {
		fmt.Fprintf(w, "application: no statements (queries.sql): lint cannot tell whether the running application keeps working\n")
	}
	for _, f := range r.Files {
		mode := "one transaction"
		if f.NoTransaction {
			mode = "no transaction, run twice"
		}
		if f.PostDeploy {
			mode += ", post-deploy"
		}
		fmt.Fprintf(w, "\n%s (%s, %s)\n", f.File, mode, round(f.Took))
		if len(f.Loaded) > 0 {
			var parts []string
			for _, t := range sortedKeys(f.Loaded) {
				parts = append(parts, fmt.Sprintf("%s %d", t, f.Loaded[t]))
			}
			fmt.Fprintf(w, "  loaded before it: %s rows (%s)\n", strings.Join(parts, ", "), round(f.LoadTook))
		}
		for _, n := range f.DatasetNotes {
			fmt.Fprintf(w, "  dataset could not fill %s\n", n)
		}
		for _, name := range sortedKeys(f.NotChecked) {
			fmt.Fprintf(w, "  not checked: the application's %s already failed before the file: %s\n", name, f.NotChecked[name])
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  LINE\tSTATEMENT\tLOCKS (HOLD -> PROJECTED)\tREWRITE\tFULL SCAN\tROWS READ/WRITTEN\tPROBE BLOCKED\tTIME -> PROJECTED\tVERDICT")
		for _, s := range f.Statements {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Line, s.SQL, locksText(s.Locks), listText(s.Rewrote),
				listText(s.Scanned), touchedText(s.Touched), waitsText(s.Blocked), timeText(s), s.verdict())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if f.Error != "" {
			fmt.Fprintf(w, "  %s\n", f.Error)
		}
	}
	var failed, allowed []string
	for _, f := range r.Files {
		if f.failsOnItsOwn() {
			failed = append(failed, fmt.Sprintf("%s: %s\n    why: a file that does not apply is not online-safe; nothing after it was linted\n    fix: make it apply on a copy of the schema (make run, then migrator up)", f.File, f.Error))
		}
		for _, s := range f.Statements {
			for _, fd := range s.Findings {
				why, fix := fd.explain()
				entry := fmt.Sprintf("%s:%d %s: %s\n    why: %s\n    fix: %s", f.File, s.Line, fd.Rule, fd.Detail, why, fix)
				if fd.Allowed != "" {
					allowed = append(allowed, fmt.Sprintf("%s:%d %s: %s\n    allowed: %s", f.File, s.Line, fd.Rule, fd.Detail, fd.Allowed))
				} else {
					failed = append(failed, entry)
				}
			}
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nFailed:\n")
		for _, e := range failed {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if len(allowed) > 0 {
		fmt.Fprintf(w, "\nAllowed (by -- migrator:allow, or reported in a post-deploy file):\n")
		for _, e := range allowed {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	verdict := "online-safe"
	if r.Failed > 0 {
		verdict = "NOT online-safe"
	}
	_, err := fmt.Fprintf(w, "\n%s: %d finding(s) failed, %d allowed\n", verdict, r.Failed, r.Allowed)
	return err
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (s *Statement) verdict() string {
	if s.Error != "" {
		return "error"
	}
	var out []string
	count := map[string]int{}
	for _, f := range s.Findings {
		v := "FAIL " + f.Rule
		if f.Allowed != "" {
			v = "allowed " + f.Rule
		}
		if count[v] == 0 {
			out = append(out, v)
		}
		count[v]++
	}
	if len(out) == 0 {
		return "ok"
	}
	for i, v := range out {
		if count[v] > 1 {
			out[i] = fmt.Sprintf("%s (%d)", v, count[v])
		}
	}
	return strings.Join(out, ", ")
}

func locksText(ls []Lock) string {
	if len(ls) == 0 {
		return "-"
	}
	var parts []string
	for i, l := range ls {
		if i > 0 && ls[i-1].Table == l.Table {
			continue // sorted strongest first: the table's weaker locks add nothing a reader needs
		}
		hold := round(l.Hold).String()
		if l.Projected > 0 && round(l.Projected) != round(l.Hold) {
			hold += " -> " + round(l.Projected).String()
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", l.Table, modeName(l.Mode), hold))
	}
	return strings.Join(parts, ", ")
}

func touchedText(ts []Touch) string {
	var parts []string
	for _, t := range ts {
		if t.Read == 0 && t.Written == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d", t.Table, t.Read, t.Written))
	}
	return listText(parts)
}

// timeText is the statement's time, and at production's size where its cost grows with rows.
func timeText(s *Statement) string {
	if s.ScaledBy == "" {
		return round(s.Duration).String()
	}
	return fmt.Sprintf("%s -> %s (x%.0f, %s)", round(s.Duration), round(s.Projected), s.Scale, s.ScaledBy)
}

func waitsText(ws []Wait) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.String()
	}
	return listText(parts)
}

func listText(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ", ")
}

// MarshalJSON writes the mode as the report shows it (ACCESS EXCLUSIVE).
func (l Lock) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Table       string `json:"table"`
		Mode        string `json:"mode"`
		HoldNs      int64  `json:"hold_ns"`
		ProjectedNs int64  `json:"projected_hold_ns"`
	}{l.Table, modeName(l.Mode), l.Hold.Nanoseconds(), l.Projected.Nanoseconds()})
}
