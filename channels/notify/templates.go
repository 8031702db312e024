package notify

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// Locales a template may be written in; DefaultLocale is required, and is
// what a citizen gets in a locale the template lacks.
var Locales = []string{"es", "en", "qu"}

// DefaultLocale is the locale of last resort.
const DefaultLocale = "es"

// Templates are the messages institutions may send, by id, each in one or
// more locales, with {{name}} holes and no logic.
type Templates struct {
	byID map[string]*Template
}

// Template is one message in its locales.
type Template struct {
	ID     string
	Params []string // the holes' names, sorted; the same in every locale
	// ValidFor is how long after the request the message is still worth
	// sending (valid_for: in the file); 0 leaves it to the queue's
	// default. A request may ask for its own.
	ValidFor time.Duration
	texts    map[string][]piece
}

// Bounds of a validity, in a template or a request: long enough for one
// retry, short enough that the status and the idempotency key are still
// kept when the last attempt is made.
const (
	MinValidFor = time.Minute
	MaxValidFor = 72 * time.Hour
)

// ParseValidFor reads a validity ("90m", "2h") and checks its bounds.
func ParseValidFor(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("valid_for %q is not a duration like 30m or 2h", s)
	case d < MinValidFor || d > MaxValidFor:
		return 0, fmt.Errorf("valid_for %s is outside 1m to 72h", s)
	}
	return d, nil
}

// piece is literal text, or a hole when hole is set.
type piece struct {
	text, hole string
}

// Problem is one mistake in a templates file, where it is.
type Problem struct {
	File      string
	Line, Col int
	Path      string // "templates.tramite_listo.es"
	Msg       string
}

func (p Problem) String() string {
	if p.Path == "" {
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", p.File, p.Line, p.Col, p.Path, p.Msg)
}

// Problems is every mistake found in a templates file.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// LoadTemplates reads and checks a templates file.
func LoadTemplates(path string) (*Templates, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading templates: %w", err)
	}
	return ParseTemplates(path, data)
}

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
)

// ParseTemplates reads a templates file's contents; name is what errors
// call it. Every problem found is returned together, as Problems:
//
//	templates:
//	  tramite_listo:
//	    es: "Su trámite {{numero}} está listo para retirar."
//	    en: "Your application {{numero}} is ready for pickup."
//	    valid_for: 48h   # optional: how long it is worth sending
func ParseTemplates(name string, data []byte) (*Templates, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &parser{file: name}
	t := &Templates{byID: map[string]*Template{}}
	if len(doc.Content) == 0 {
		p.add(&doc, "", "empty file: want a templates: mapping")
		return nil, p.problems
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.add(root, "", "want a mapping with templates:")
		return nil, p.problems
	}
	var list *yaml.Node
	for i := 0; i < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "templates" {
			p.add(k, k.Value, "unknown key (want templates)")
			continue
		}
		list = v
	}
	if list == nil || list.Kind != yaml.MappingNode || len(list.Content) == 0 {
		at := root
		if list != nil {
			at = list
		}
		p.add(at, "templates", "want a mapping of template ids to their texts")
		return nil, p.problems
	}
	seen := map[string]int{}
	for i := 0; i < len(list.Content); i += 2 {
		k, v := list.Content[i], list.Content[i+1]
		path := "templates." + k.Value
		if line, dup := seen[k.Value]; dup {
			p.add(k, path, fmt.Sprintf("duplicate template (first at line %d)", line))
			continue
		}
		seen[k.Value] = k.Line
		if !idPattern.MatchString(k.Value) {
			p.add(k, path, "template ids are lower case letters, digits, _ and -")
			continue
		}
		if tp := p.template(k.Value, v, path); tp != nil {
			t.byID[k.Value] = tp
		}
	}
	if len(p.problems) > 0 {
		sort.SliceStable(p.problems, func(i, j int) bool {
			a, b := p.problems[i], p.problems[j]
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
		return nil, p.problems
	}
	return t, nil
}

type parser struct {
	file     string
	problems Problems
}

func (p *parser) add(n *yaml.Node, path, msg string) {
	p.addAt(n.Line, n.Column, path, msg)
}

func (p *parser) addAt(line, col int, path, msg string) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Col: col, Path: path, Msg: msg})
}

func (p *parser) template(id string, n *yaml.Node, path string) *Template {
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "want a mapping of locales (es, en, qu) to texts")
		return nil
	}
	t := &Template{ID: id, texts: map[string][]piece{}}
	holes := map[string][]string{}
	ok := true
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		lpath := path + "." + k.Value
		if k.Value == "valid_for" {
			d, err := ParseValidFor(v.Value)
			if err == nil && v.Kind != yaml.ScalarNode {
				err = errors.New("valid_for: want a duration like 30m or 48h")
			}
			if err != nil {
				p.add(v, lpath, err.Error())
				ok = false
			}
			t.ValidFor = d
			continue
		}
		switch {
		case !slices.Contains(Locales, k.Value):
			msg := "unknown key (want es, en, qu or valid_for)"
			if near := suggest.Closest(k.Value, append(slices.Clone(Locales), "valid_for")); near != "" {
				msg = fmt.Sprintf("unknown key (did you mean %s?)", near)
			}
			p.add(k, lpath, msg)
			ok = false
			continue
		case t.texts[k.Value] != nil:
			p.add(k, lpath, "duplicate locale")
			ok = false
			continue
		case v.Kind != yaml.ScalarNode || v.Tag != "!!str":
			p.add(v, lpath, "want a text")
			ok = false
			continue
		case strings.TrimSpace(v.Value) == "":
			p.add(v, lpath, "empty text")
			ok = false
			continue
		}
		pieces, names, err := parseText(v.Value)
		if err != nil {
			line, col := v.Line, v.Column
			var te *textError
			if errors.As(err, &te) && !strings.Contains(v.Value, "\n") {
				// One line: point at the brace itself.
				col += utf8.RuneCountInString(v.Value[:te.at])
				if v.Style == yaml.DoubleQuotedStyle || v.Style == yaml.SingleQuotedStyle {
					col++
				}
			}
			p.addAt(line, col, lpath, err.Error())
			ok = false
			continue
		}
		t.texts[k.Value] = pieces
		holes[k.Value] = names
	}
	if !ok {
		return nil
	}
	es, hasES := holes[DefaultLocale]
	if !hasES {
		p.add(n, path, "no es text: es is what every citizen gets when their locale is missing")
		return nil
	}
	for _, loc := range Locales {
		other, present := holes[loc]
		if !present || loc == DefaultLocale {
			continue
		}
		for _, h := range other {
			if !slices.Contains(es, h) {
				p.add(n, path+"."+loc, fmt.Sprintf("uses {{%s}}, which es does not", h))
				ok = false
			}
		}
		for _, h := range es {
			if !slices.Contains(other, h) {
				p.add(n, path+"."+loc, fmt.Sprintf("lacks {{%s}}, which es uses", h))
				ok = false
			}
		}
	}
	if !ok {
		return nil
	}
	t.Params = es
	return t
}

type textError struct {
	at  int // byte offset in the text
	msg string
}

func (e *textError) Error() string { return e.msg }

// parseText splits a text into literal pieces and {{name}} holes, and
// returns the holes' names, sorted and unique.
func parseText(s string) ([]piece, []string, error) {
	var out []piece
	names := map[string]bool{}
	rest, off := s, 0
	for {
		open := strings.Index(rest, "{{")
		closeAt := strings.Index(rest, "}}")
		if closeAt >= 0 && (open < 0 || closeAt < open) {
			return nil, nil, &textError{off + closeAt, `"}}" without "{{"`}
		}
		if open < 0 {
			if rest != "" {
				out = append(out, piece{text: rest})
			}
			break
		}
		if open > 0 {
			out = append(out, piece{text: rest[:open]})
		}
		end := strings.Index(rest[open+2:], "}}")
		if end < 0 {
			return nil, nil, &textError{off + open, `"{{" not closed with "}}"`}
		}
		name := strings.TrimSpace(rest[open+2 : open+2+end])
		switch {
		case name == "":
			return nil, nil, &textError{off + open, "empty {{}}"}
		case !namePattern.MatchString(name):
			return nil, nil, &textError{off + open, fmt.Sprintf("{{%s}}: holes are a {{name}} of letters, digits and _; templates have no logic", name)}
		}
		out = append(out, piece{hole: name})
		names[name] = true
		next := open + 2 + end + 2
		rest, off = rest[next:], off+next
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	return out, list, nil
}

// Get returns the template with id.
func (t *Templates) Get(id string) (*Template, bool) {
	tp, ok := t.byID[id]
	return tp, ok
}

// IDs lists the template ids, sorted. Public for tests and tools that list
// what an institution may send; the gateway looks templates up by id.
func (t *Templates) IDs() []string {
	ids := make([]string, 0, len(t.byID))
	for id := range t.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Has reports whether the template is written in locale.
func (tp *Template) Has(locale string) bool { return tp.texts[locale] != nil }

// Render fills the holes of the locale's text (es when the template lacks
// it) and returns the text and the locale used. Every name in Params must
// be in params; others are ignored.
func (tp *Template) Render(locale string, params map[string]string) (text, used string, err error) {
	if !tp.Has(locale) {
		locale = DefaultLocale
	}
	var b strings.Builder
	for _, p := range tp.texts[locale] {
		if p.hole == "" {
			b.WriteString(p.text)
			continue
		}
		v, ok := params[p.hole]
		if !ok {
			return "", "", fmt.Errorf("template %s: no value for {{%s}}", tp.ID, p.hole)
		}
		b.WriteString(v)
	}
	return b.String(), locale, nil
}
