package flows

import (
	"github.com/ventanilla-gob/ventanilla/diag"
	isuggest "github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// Problems are reported the way every YAML file of Ventanilla reports them
// (package diag): "file:line:col: yaml.path: severity: message [code]".
type (
	// Problem is one finding about a flow file, addressed the way an
	// author needs it: file, line and column, the YAML path, a short code.
	Problem = diag.Problem
	// Problems is a list of findings, which is also an error when it
	// holds one.
	Problems = diag.Problems
	// Severity of a problem found in a flow file.
	Severity = diag.Severity
	// Pos is a position in a flow file, 1-based.
	Pos = diag.Pos
)

const (
	// Warning: printed and counted; the flow still loads (unless --strict).
	Warning = diag.Warning
	// Error: the flow does not load.
	Error = diag.Error
)

// report collects problems for one file; what the YAML walk finds
// (diag.Report.Pairs) is an error.
type report struct {
	diag.Report
	// unread are the paths whose values could not be read: checking what
	// they hold would only repeat that error ("between 1 and 10" after
	// "expected a whole number"), so nothing more is reported there.
	unread map[string]bool
}

func newReport(file string) *report {
	return &report{Report: diag.Report{File: file, Grade: diag.Error}, unread: map[string]bool{}}
}

func (r *report) errorf(pos Pos, path, code, format string, args ...any) {
	if !r.unread[path] {
		r.Errorf(pos, path, code, format, args...)
	}
}

func (r *report) warnf(pos Pos, path, code, format string, args ...any) {
	if !r.unread[path] {
		r.Warnf(pos, path, code, format, args...)
	}
}

// misread reports a value that could not be read, and remembers its path.
func (r *report) misread(pos Pos, path, format string, args ...any) {
	r.errorf(pos, path, "wrong-type", format, args...)
	r.unread[path] = true
}

// closest is the candidate close to name, or "".
func closest(name string, candidates []string) string { return isuggest.Closest(name, candidates) }

// suggest returns ` (did you mean "x"?)` when a candidate is close to name.
func suggest(name string, candidates []string) string { return diag.DidYouMean(name, candidates) }
