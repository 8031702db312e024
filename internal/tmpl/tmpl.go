// Package tmpl is the one text template language of Ventanilla: literal
// text with {{name}} or {{a.b}} holes, each perhaps with one format
// ({{amount | money}}, {{slot.date | date}}), and nothing else. Flow
// texts, notification templates and system messages are all written in it.
//
// A template is parsed once, when its file loads; rendering only copies
// literal text and asks the caller for each hole's value, so a text can
// never run code, loop, or reach anything the caller does not hand it.
// `\{{` and `\}}` write the braces themselves; a backslash anywhere else is
// an ordinary character.
package tmpl

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// MaxHoles bounds the holes of one text.
const MaxHoles = 32

// maxName bounds one segment of a hole's name.
const maxName = 64

// Options say which holes a kind of text accepts.
type Options struct {
	// Dotted accepts {{item.name}}: a path into a value. Without it a hole
	// is one {{name}}.
	Dotted bool
	// LeadingDot accepts {{.Name}} as {{Name}}, the way go-i18n message
	// files write holes.
	LeadingDot bool
}

// Template is a parsed text. The zero value renders as nothing.
type Template struct {
	parts []Part
	size  int // bytes of literal text
}

// Part is literal text, or a hole when Hole is not nil.
type Part struct {
	Lit  string
	Hole *Hole
}

// Hole is one {{…}} of a text.
type Hole struct {
	Name   string   // as written, trimmed, without its format: "item.name"
	Path   []string // Name split at its dots
	Format Format   // how its value is shown; Plain when it names none
	At     int      // byte offset of its "{{" in the source
}

// Error is a mistake in a text, at a byte offset of its source.
type Error struct {
	At   int
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Kind tells mistakes apart, for callers that word them their own way.
type Kind int

// The kinds of mistake.
const (
	Unclosed  Kind = iota + 1 // "{{" with no "}}"
	Stray                     // "}}" with no "{{"
	Empty                     // "{{}}"
	BadHole                   // anything but a name or a path in a hole
	TooMany                   // more than MaxHoles holes
	BadFormat                 // "| name" that is not a format
)

// Parse reads a text.
func Parse(src string, o Options) (Template, error) {
	var t Template
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, Part{Lit: lit.String()})
			t.size += lit.Len()
			lit.Reset()
		}
	}
	holes := 0
	for i := 0; i < len(src); {
		rest := src[i:]
		switch {
		case strings.HasPrefix(rest, `\{{`), strings.HasPrefix(rest, `\}}`):
			lit.WriteString(rest[1:3])
			i += 3
		case strings.HasPrefix(rest, "}}"):
			return Template{}, &Error{i, Stray, `"}}" without "{{"`}
		case strings.HasPrefix(rest, "{{"):
			end := strings.Index(rest[2:], "}}")
			if end < 0 {
				return Template{}, &Error{i, Unclosed, `"{{" not closed with "}}"`}
			}
			h, err := hole(strings.TrimSpace(rest[2:2+end]), i, o)
			if err != nil {
				return Template{}, err
			}
			if holes++; holes > MaxHoles {
				return Template{}, &Error{i, TooMany, fmt.Sprintf("more than %d {{…}} holes", MaxHoles)}
			}
			flush()
			t.parts = append(t.parts, Part{Hole: h})
			i += 2 + end + 2
		default:
			j := strings.IndexAny(rest[1:], `\{}`)
			if j < 0 {
				j = len(rest) - 1
			}
			lit.WriteString(rest[:j+1])
			i += j + 1
		}
	}
	flush()
	return t, nil
}

func hole(name string, at int, o Options) (*Hole, error) {
	if name == "" {
		return nil, &Error{at, Empty, "empty {{}}"}
	}
	written := name
	format := Plain
	if bar := strings.IndexByte(name, '|'); bar >= 0 {
		fname := strings.TrimSpace(name[bar+1:])
		f, ok := formatNamed(fname)
		if !ok {
			msg := fmt.Sprintf("{{%s}}: %q is not a format; formats: %s", written, fname, strings.Join(Formats, ", "))
			if near := suggest.Closest(fname, Formats); near != "" {
				msg = fmt.Sprintf("{{%s}}: %q is not a format (did you mean %q?); formats: %s", written, fname, near, strings.Join(Formats, ", "))
			}
			return nil, &Error{at, BadFormat, msg}
		}
		format, name = f, strings.TrimSpace(name[:bar])
	}
	if o.LeadingDot && strings.HasPrefix(name, ".") {
		name = name[1:]
	}
	path := strings.Split(name, ".")
	ok := o.Dotted || len(path) == 1
	for _, seg := range path {
		ok = ok && ValidName(seg)
	}
	if !ok {
		msg := "holes are a {{name}} of letters, digits and _, perhaps with a format ({{name | money}}); templates have no logic"
		if o.Dotted {
			msg = "holes are a {{name}} or a path such as {{item.name}}, of letters, digits and _, perhaps with a format ({{name | money}}); templates have no logic"
		}
		return nil, &Error{at, BadHole, fmt.Sprintf("{{%s}}: %s", written, msg)}
	}
	return &Hole{Name: name, Path: path, Format: format, At: at}, nil
}

// ValidName reports whether s can name a hole: a letter or _, then
// letters, digits and _, at most 64 of them.
func ValidName(s string) bool {
	if s == "" || len(s) > maxName {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Holes returns the text's holes in the order written, for lint and for
// checking the names a text reads.
func (t *Template) Holes() []*Hole {
	var out []*Hole
	for _, p := range t.parts {
		if p.Hole != nil {
			out = append(out, p.Hole)
		}
	}
	return out
}

// Names returns the names of the text's holes, sorted, each once.
func (t *Template) Names() []string {
	var out []string
	for _, p := range t.parts {
		if p.Hole != nil && !slices.Contains(out, p.Hole.Name) {
			out = append(out, p.Hole.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Parts returns the text's literal pieces and holes in order, for a
// renderer that writes values its own way (the slice is the template's:
// read it, do not change it). Execute is the simpler way.
func (t *Template) Parts() []Part { return t.parts }

// Len is the bytes of literal text, to size a buffer.
func (t *Template) Len() int { return t.size }

// Execute writes the text to b, calling fill to write each hole's value.
// The first error fill returns stops it.
func (t *Template) Execute(b *strings.Builder, fill func(b *strings.Builder, h *Hole) error) error {
	for _, p := range t.parts {
		if p.Hole == nil {
			b.WriteString(p.Lit)
			continue
		}
		if err := fill(b, p.Hole); err != nil {
			return err
		}
	}
	return nil
}

// Render returns the text in locale with each hole filled from values,
// formatted as the hole says (a value its format cannot read is shown as
// it is); a hole missing from values is an error naming it.
func (t *Template) Render(locale string, values map[string]string) (string, error) {
	var b strings.Builder
	b.Grow(t.size + 16*len(t.parts))
	err := t.Execute(&b, func(b *strings.Builder, h *Hole) error {
		v, ok := values[h.Name]
		if !ok {
			return fmt.Errorf("no value for {{%s}}", h.Name)
		}
		if h.Format == Plain || !h.Format.Write(b, locale, v) {
			b.WriteString(v)
		}
		return nil
	})
	return b.String(), err
}
