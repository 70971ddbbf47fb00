package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report as a table per file, then each finding with its reason and fix.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "migrator lint: PostgreSQL %s, %d rows per table, %d file(s) in %s\n", r.Server, r.Rows, len(r.Files), round(r.Took))
	for _, f := range r.Files {
		mode := "one transaction"
		if f.NoTransaction {
			mode = "no transaction, run twice"
		}
		fmt.Fprintf(w, "\n%s (%s, %s)\n", f.File, mode, round(f.Took))
		if len(f.Loaded) > 0 {
			var parts []string
			for _, t := range sortedKeys(f.Loaded) {
				parts = append(parts, fmt.Sprintf("%s %d", t, f.Loaded[t]))
			}
			fmt.Fprintf(w, "  loaded before it: %s rows (%s)\n", strings.Join(parts, ", "), round(f.LoadTook))
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  LINE\tSTATEMENT\tLOCKS (HOLD)\tREWRITE\tFULL SCAN\tPROBE BLOCKED\tTIME\tVERDICT")
		for _, s := range f.Statements {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Line, s.SQL, locksText(s.Locks), listText(s.Rewrote),
				listText(s.Scanned), listText(s.Blocked), round(s.Duration), s.verdict())
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
		for _, s := range f.Statements {
			for _, fd := range s.Findings {
				rule, _ := RuleByID(fd.Rule)
				entry := fmt.Sprintf("%s:%d %s: %s\n    why: %s\n    fix: %s", f.File, s.Line, fd.Rule, fd.Detail, rule.Reason, rule.Fix)
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
		fmt.Fprintf(w, "\nAllowed by -- migrator:allow:\n")
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
	for _, f := range s.Findings {
		if f.Allowed != "" {
			out = append(out, "allowed "+f.Rule)
		} else {
			out = append(out, "FAIL "+f.Rule)
		}
	}
	if len(out) == 0 {
		return "ok"
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
		parts = append(parts, fmt.Sprintf("%s %s (%s)", l.Table, modeName(l.Mode), round(l.Hold)))
	}
	return strings.Join(parts, ", ")
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
		Table  string `json:"table"`
		Mode   string `json:"mode"`
		HoldNs int64  `json:"hold_ns"`
	}{l.Table, modeName(l.Mode), l.Hold.Nanoseconds()})
}
