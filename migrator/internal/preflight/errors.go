package preflight

import (
	"fmt"
	"strings"
)

// ScratchError: a pending file does not apply to the scratch database (a copy of the live
// schema without rows), so it would not apply to the live one either. Nothing live was touched.
type ScratchError struct {
	File string
	Err  error
}

func (e *ScratchError) Error() string {
	return fmt.Sprintf("pre-flight: %s does not apply to a copy of the live schema (nothing was changed): %v", e.File, e.Err)
}

func (e *ScratchError) Unwrap() error { return e.Err }

// RefusedError: live rows break a rule a pending file adds, or a counting query timed out with
// OnTimeout stop. Nothing was changed and no lock was taken.
type RefusedError struct {
	Violations []Violation
	Timeouts   []Timeout
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString("pre-flight: nothing was changed and no lock taken:")
	if len(e.Violations) > 0 {
		b.WriteString(" existing rows break rules the pending files add; correct or remove them (or change the migration), then run again:")
		for _, v := range e.Violations {
			b.WriteString("\n  " + v.String())
		}
	}
	for _, t := range e.Timeouts {
		fmt.Fprintf(&b, "\n  %s: counting the rows of %s that break %s %s took longer than %s (statement_timeout): raise --preflight-timeout, run the count on a read replica (--preflight-database-url), or --preflight-on-timeout continue",
			t.Rule.File, t.Rule.Table, t.Rule.Kind, t.Rule.Name, t.After)
	}
	return b.String()
}

// BlockedError: sessions idle in a transaction hold locks the pending files need, longer than
// the wait allowed. The migrator never ends a session: the operator may.
type BlockedError struct {
	Sessions []Session
	Waited   string
}

func (e *BlockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pre-flight: %d session(s) idle in a transaction hold locks the pending files need, after waiting %s; nothing was changed. "+
		"End their transactions in the application, or, if you decide to, terminate them:", len(e.Sessions), e.Waited)
	for _, s := range e.Sessions {
		fmt.Fprintf(&b, "\n  %s\n    %s", s, s.TerminateCommand())
	}
	return b.String()
}
