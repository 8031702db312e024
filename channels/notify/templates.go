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

	"github.com/ventanilla-gob/ventanilla/diag"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"
	"github.com/ventanilla-gob/ventanilla/internal/tmpl"
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
	texts    map[string]tmpl.Template
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

// Problem is one mistake in a templates file, where it is; templates
// files report problems the way every YAML file does (package diag).
type Problem = diag.Problem

// Problems is every mistake found in a templates file.
type Problems = diag.Problems

// LoadTemplates reads and checks a templates file.
func LoadTemplates(path string) (*Templates, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading templates: %w", err)
	}
	return ParseTemplates(path, data)
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ParseTemplates reads a templates file's contents; name is what errors
// call it. Every problem found is returned together, as Problems:
//
//	templates:
//	  tramite_listo:
//	    es: "Su trámite {{numero}} está listo para retirar."
//	    en: "Your application {{numero}} is ready for pickup."
//	    valid_for: 48h   # optional: how long it is worth sending
//
// An alias (*name) stands for the text or template it names; merge keys
// (<<) are refused.
func ParseTemplates(name string, data []byte) (*Templates, error) {
	root, bad := diag.Parse(name, data)
	if bad != nil {
		return nil, Problems{*bad}
	}
	r := &diag.Report{File: name}
	t := &Templates{byID: map[string]*Template{}}
	if root == nil {
		r.Add(Problem{Message: "empty file: want a templates: mapping"})
		return nil, r.Problems
	}
	if root = diag.Resolve(root); root.Kind != yaml.MappingNode {
		r.At(root, "", "want a mapping with templates:")
		return nil, r.Problems
	}
	var list *yaml.Node
	r.Pairs(root, "", nil, func(k, v *yaml.Node) {
		if k.Value != "templates" {
			r.At(k, k.Value, "unknown key (want templates)")
			return
		}
		list = v
	})
	if list == nil || list.Kind != yaml.MappingNode || len(list.Content) == 0 {
		at := root
		if list != nil {
			at = list
		}
		r.At(at, "templates", "want a mapping of template ids to their texts")
		r.Problems.Sort()
		return nil, r.Problems
	}
	dup := func(id string, first diag.Pos) string {
		return fmt.Sprintf("template %q appears twice (first at %s)", id, first)
	}
	r.Pairs(list, "templates", dup, func(k, v *yaml.Node) {
		path := "templates." + k.Value
		if !idPattern.MatchString(k.Value) {
			r.At(k, path, "template ids are lower case letters, digits, _ and -")
			return
		}
		if tp := template(r, k.Value, v, path); tp != nil {
			t.byID[k.Value] = tp
		}
	})
	if len(r.Problems) > 0 {
		r.Problems.Sort()
		return nil, r.Problems
	}
	return t, nil
}

func duplicateLocale(loc string, first diag.Pos) string {
	return fmt.Sprintf("locale %q appears twice (first at %s)", loc, first)
}

func template(r *diag.Report, id string, n *yaml.Node, path string) *Template {
	if n.Kind != yaml.MappingNode {
		r.At(n, path, "want a mapping of locales (es, en, qu) to texts")
		return nil
	}
	t := &Template{ID: id, texts: map[string]tmpl.Template{}}
	holes := map[string][]string{}
	before := len(r.Problems)
	r.Pairs(n, path, duplicateLocale, func(k, v *yaml.Node) {
		lpath := path + "." + k.Value
		if k.Value == "valid_for" {
			d, err := ParseValidFor(v.Value)
			if err == nil && v.Kind != yaml.ScalarNode {
				err = errors.New("valid_for: want a duration like 30m or 48h")
			}
			if err != nil {
				r.At(v, lpath, "%s", err)
			}
			t.ValidFor = d
			return
		}
		switch {
		case !slices.Contains(Locales, k.Value):
			msg := "unknown key (want es, en, qu or valid_for)"
			if near := suggest.Closest(k.Value, append(slices.Clone(Locales), "valid_for")); near != "" {
				msg = fmt.Sprintf("unknown key (did you mean %s?)", near)
			}
			r.At(k, lpath, "%s", msg)
			return
		case v.Kind != yaml.ScalarNode || v.Tag != "!!str":
			r.At(v, lpath, "want a text")
			return
		case strings.TrimSpace(v.Value) == "":
			r.At(v, lpath, "empty text")
			return
		}
		text, err := tmpl.Parse(v.Value, tmpl.Options{})
		if err != nil {
			at := diag.At(v)
			var te *tmpl.Error
			if errors.As(err, &te) && !strings.Contains(v.Value, "\n") {
				// One line: point at the brace itself.
				at.Col += utf8.RuneCountInString(v.Value[:te.At])
				if v.Style == yaml.DoubleQuotedStyle || v.Style == yaml.SingleQuotedStyle {
					at.Col++
				}
			}
			r.Add(Problem{Pos: at, Path: lpath, Message: err.Error()})
			return
		}
		t.texts[k.Value] = text
		holes[k.Value] = text.Names()
	})
	if len(r.Problems) > before {
		return nil
	}
	es, hasES := holes[DefaultLocale]
	if !hasES {
		r.At(n, path, "no es text: es is what every citizen gets when their locale is missing")
		return nil
	}
	for _, loc := range Locales {
		other, present := holes[loc]
		if !present || loc == DefaultLocale {
			continue
		}
		for _, h := range other {
			if !slices.Contains(es, h) {
				r.At(n, path+"."+loc, "uses {{%s}}, which es does not", h)
			}
		}
		for _, h := range es {
			if !slices.Contains(other, h) {
				r.At(n, path+"."+loc, "lacks {{%s}}, which es uses", h)
			}
		}
	}
	if len(r.Problems) > before {
		return nil
	}
	t.Params = es
	return t
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
func (tp *Template) Has(locale string) bool {
	_, ok := tp.texts[locale]
	return ok
}

// Render fills the holes of the locale's text (es when the template lacks
// it) and returns the text and the locale used. Every name in Params must
// be in params; others are ignored.
func (tp *Template) Render(locale string, params map[string]string) (text, used string, err error) {
	if !tp.Has(locale) {
		locale = DefaultLocale
	}
	tx := tp.texts[locale]
	text, err = tx.Render(locale, params)
	if err != nil {
		return "", "", fmt.Errorf("template %s: %w", tp.ID, err)
	}
	return text, locale, nil
}

// Merge returns the templates of every set given, as a gateway serving
// several institutions' templates files needs; an id declared twice is an
// error.
func Merge(sets ...*Templates) (*Templates, error) {
	out := &Templates{byID: map[string]*Template{}}
	for _, t := range sets {
		if t == nil {
			continue
		}
		for id, tp := range t.byID {
			if _, dup := out.byID[id]; dup {
				return nil, fmt.Errorf("template %q is declared twice", id)
			}
			out.byID[id] = tp
		}
	}
	return out, nil
}
