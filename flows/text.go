package flows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ventanilla-gob/ventanilla/internal/tmpl"
)

// template is a flow text: literal text with {{variable}} or {{item.field}}
// holes (the one template language, internal/tmpl), parsed once when the
// flow loads. Holes only look values up: there is no logic in a text, so
// a text can never run code or reach anything but the variables.
type template struct{ tmpl.Template }

func parseTemplate(src string) (template, error) {
	t, err := tmpl.Parse(src, tmpl.Options{Dotted: true})
	var te *tmpl.Error
	if errors.As(err, &te) && te.Kind == tmpl.Unclosed {
		// The wording flow authors have always read.
		err = &tmpl.Error{At: te.At, Kind: te.Kind, Msg: fmt.Sprintf("unclosed {{ in %q", src)}
	}
	return template{t}, err
}

func validIdent(s string) bool { return tmpl.ValidName(s) }

// validPath reports whether p is a variable name or a dotted path of them.
func validPath(p string) bool {
	for _, seg := range strings.Split(p, ".") {
		if !validIdent(seg) {
			return false
		}
	}
	return true
}

// holes returns the paths the template reads.
func (t *template) holes() [][]string {
	var out [][]string
	for _, h := range t.Holes() {
		out = append(out, h.Path)
	}
	return out
}

// literal returns the text of a template without holes.
func (t *template) literal() (string, bool) {
	switch parts := t.Parts(); {
	case len(parts) == 0:
		return "", true
	case len(parts) == 1 && parts[0].Hole == nil:
		return parts[0].Lit, true
	}
	return "", false
}

// literal returns the text shown in loc (or, missing there, in fallback)
// when it is written out, without holes, in the flow itself.
func (t *Text) literal(loc, fallback string) (string, bool) {
	if !t.set || t.tmpl == nil {
		return "", false // unset, or a system message: its catalogue may change
	}
	tp, ok := t.tmpl[loc]
	if !ok {
		tp, ok = t.tmpl[fallback]
	}
	if !ok {
		return "", false
	}
	return tp.literal()
}

// render writes the template in locale with values from vars; item, when
// not nil, is what {{item…}} refers to. Missing values render as nothing;
// a value its hole's format cannot read, as it is.
func (t *template) render(b *strings.Builder, locale string, vars map[string]any, item any) {
	for _, p := range t.Parts() {
		if p.Hole == nil {
			b.WriteString(p.Lit)
			continue
		}
		var v any
		if p.Hole.Path[0] == "item" && item != nil {
			v = lookup(item, p.Hole.Path[1:])
		} else {
			v = lookup(vars, p.Hole.Path)
		}
		if p.Hole.Format == tmpl.Plain || !p.Hole.Format.Write(b, locale, v) {
			writeValue(b, v)
		}
	}
}

func lookup(root any, path []string) any {
	v := root
	for _, k := range path {
		switch m := v.(type) {
		case map[string]any:
			v = m[k]
		default:
			return nil
		}
	}
	return v
}

func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
	case string:
		b.WriteString(x)
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	default:
		// Arrays and objects are not meant for screens; say nothing rather
		// than dump a structure on a citizen's phone.
	}
}
