package flows

import (
	"fmt"
	"sort"
	"strings"

	suggestpkg "github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// Severity of a problem found in a flow file.
type Severity int

const (
	// Warning: printed and counted; the flow still loads (unless --strict).
	Warning Severity = iota
	// Error: the flow does not load.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Problem is one finding about a flow file, addressed the way an author
// needs it: file, line and column, the YAML path, a short code.
type Problem struct {
	File     string
	Pos      Pos
	Path     string // e.g. "steps.confirm.next"
	Code     string // e.g. "dangling-next"
	Severity Severity
	Message  string
}

// String formats the problem as "file:line:col: yaml.path: severity: message [code]".
func (p Problem) String() string {
	path := p.Path
	if path == "" {
		path = "(file)"
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s: %s [%s]", p.File, p.Pos.Line, p.Pos.Col, path, p.Severity, p.Message, p.Code)
}

// Problems is a list of findings, which is also an error when it holds one.
type Problems []Problem

// HasErrors reports whether any problem is an error.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns the number of errors and warnings.
func (ps Problems) Count() (errors, warnings int) {
	for _, p := range ps {
		if p.Severity == Error {
			errors++
		} else {
			warnings++
		}
	}
	return
}

// Sort orders problems by file and position.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		return a.Pos.Col < b.Pos.Col
	})
}

func (ps Problems) Error() string {
	var b strings.Builder
	n := 0
	for _, p := range ps {
		if p.Severity != Error {
			continue
		}
		if n > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p.String())
		n++
	}
	return b.String()
}

// report collects problems for one file.
type report struct {
	file string
	list Problems
}

func (r *report) add(sev Severity, pos Pos, path, code, format string, args ...any) {
	r.list = append(r.list, Problem{File: r.file, Pos: pos, Path: path, Code: code, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func (r *report) errorf(pos Pos, path, code, format string, args ...any) {
	r.add(Error, pos, path, code, format, args...)
}

func (r *report) warnf(pos Pos, path, code, format string, args ...any) {
	r.add(Warning, pos, path, code, format, args...)
}

// suggest returns ` (did you mean "x"?)` when a candidate is close to name.
func suggest(name string, candidates []string) string {
	if best := suggestpkg.Closest(name, candidates); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
