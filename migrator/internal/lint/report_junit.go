package lint

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteJUnit writes the report as JUnit XML for a CodeBuild report group (the console's Reports
// tab): a test suite per file, a test case per statement, failing with each of its findings no
// allow directive covers; a file that did not apply fails a case of its own, and an application
// statement lint could not check is a skipped case.
func (r *Report) WriteJUnit(w io.Writer) error {
	suites := junitSuites{Name: "migrator lint", Time: seconds(r.Took)}
	for _, f := range r.Files {
		s := junitSuite{Name: f.File, Time: seconds(f.Took)}
		for _, st := range f.Statements {
			c := junitCase{Class: f.File, Name: fmt.Sprintf("line %d: %s", st.Line, st.SQL), Time: seconds(st.Duration)}
			var out []string
			for _, fd := range st.Findings {
				if fd.Allowed != "" {
					out = append(out, fmt.Sprintf("allowed %s: %s (%s)", fd.Rule, fd.Detail, fd.Allowed))
					continue
				}
				why, fix := fd.explain()
				c.Failures = append(c.Failures, junitFailure{Type: fd.Rule, Message: fd.Detail,
					Text: fmt.Sprintf("%s:%d %s: %s\nwhy: %s\nfix: %s", f.File, st.Line, fd.Rule, fd.Detail, why, fix)})
			}
			if st.Error != "" && len(c.Failures) == 0 {
				c.Failures = append(c.Failures, junitFailure{Type: "error", Message: st.Error, Text: st.Error})
			}
			c.Out = strings.Join(out, "\n")
			s.add(c)
		}
		if f.failsOnItsOwn() {
			s.add(junitCase{Class: f.File, Name: "applies", Failures: []junitFailure{{Type: "does-not-apply", Message: f.Error,
				Text: f.Error + "\nfix: make it apply on a copy of the schema (make run, then migrator up)"}}})
		}
		for _, name := range sortedKeys(f.NotChecked) {
			s.add(junitCase{Class: f.File, Name: "application: " + name,
				Skipped: &junitSkipped{Message: "not checked: it already failed before the file: " + f.NotChecked[name]}})
		}
		suites.Tests += s.Tests
		suites.Failures += s.Failures
		suites.Suites = append(suites.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suites); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

func (s *junitSuite) add(c junitCase) {
	s.Tests++
	if len(c.Failures) > 0 {
		s.Failures++
	}
	if c.Skipped != nil {
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

type junitCase struct {
	Class    string         `xml:"classname,attr"`
	Name     string         `xml:"name,attr"`
	Time     string         `xml:"time,attr,omitempty"`
	Failures []junitFailure `xml:"failure"`
	Skipped  *junitSkipped  `xml:"skipped"`
	Out      string         `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
