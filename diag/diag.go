// Package diag reports problems in the YAML files people write for
// Ventanilla — flows, services, notification templates — one way:
// "file:line:col: yaml.path: severity: message", positioned where the
// author wrote the text, with the name they probably meant.
//
// It also reads those files one way. Every file kind walks its mappings
// with Pairs, which refuses merge keys (<<), keys that are not plain names
// and keys given twice, and follows aliases (*name) to the node they stand
// for: a problem in an aliased value is reported where its text is written
// (at the anchor), under the path through which it was reached. A file kind
// that refuses anchors altogether (flows do, so that a flow reads the same
// in an editor, in the Studio and in its diagram) finds them with Anchor.
package diag

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// Pos is a position in a file, 1-based; Col 0 when only the line is known.
type Pos struct{ Line, Col int }

// String is "line:col", or "line" when the column is not known.
func (p Pos) String() string {
	if p.Col == 0 {
		return strconv.Itoa(p.Line)
	}
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Severity grades a problem. A problem without one (the zero value) counts
// as an error: files that are loaded or refused as a whole need no grades.
type Severity uint8

const (
	// Error: the file is refused.
	Error Severity = iota + 1
	// Warning: printed and counted; the file still loads.
	Warning
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return ""
}

// Problem is one finding about a file, addressed the way an author needs
// it: file, line and column, the YAML path, and, when graded, a severity
// and a short code.
type Problem struct {
	File     string
	Pos      Pos
	Path     string // e.g. "steps.confirm.next"
	Code     string // e.g. "dangling-next"; printed with graded problems
	Severity Severity
	Message  string
}

// String formats the problem. A graded problem (lint's findings) always
// has every field, so that tools can split it:
//
//	flow.yaml:12:3: steps.a: error: "a" is defined twice [duplicate-id]
//	flow.yaml:1:1: (file): error: the file is empty [yaml]
//
// An ungraded one leaves out what it does not know:
//
//	services.yaml:7:5: services.turnos.book.method: unknown method "FETCH"
//	services.yaml:2: did not find expected node content
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Pos.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Pos.Line))
		if p.Pos.Col > 0 {
			b.WriteString(":" + strconv.Itoa(p.Pos.Col))
		}
	}
	b.WriteString(": ")
	path := p.Path
	if path == "" && p.Severity != 0 {
		path = "(file)"
	}
	if path != "" {
		b.WriteString(path + ": ")
	}
	if p.Severity != 0 {
		b.WriteString(p.Severity.String() + ": ")
	}
	b.WriteString(p.Message)
	if p.Severity != 0 && p.Code != "" {
		b.WriteString(" [" + p.Code + "]")
	}
	return b.String()
}

// Problems is a list of findings, which is also an error when it holds one.
type Problems []Problem

// HasErrors reports whether any problem is an error.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity != Warning {
			return true
		}
	}
	return false
}

// Count returns the number of errors and warnings.
func (ps Problems) Count() (errors, warnings int) {
	for _, p := range ps {
		if p.Severity == Warning {
			warnings++
		} else {
			errors++
		}
	}
	return
}

// Sort orders problems by file and position, keeping the order of
// problems at one place.
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

// Error lists the errors, one a line; warnings are left out.
func (ps Problems) Error() string {
	var b strings.Builder
	n := 0
	for _, p := range ps {
		if p.Severity == Warning {
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

// DidYouMean returns ` (did you mean "x"?)` when one of known is close
// enough to name to be what the author meant, or "".
func DidYouMean(name string, known []string) string {
	if best := suggest.Closest(name, known); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// Join appends key to a dotted YAML path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
