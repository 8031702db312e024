package flows

import (
	"fmt"
	"strconv"
	"strings"
)

// template is a text with {{variable}} or {{item.field}} holes, parsed once
// when the flow loads. Holes only look values up: there is no logic in a
// text, so a text can never run code or reach anything but the variables.
type template struct {
	parts []tpart
	size  int // bytes of literal text, to size the output
}

type tpart struct {
	lit  string
	path []string // nil for a literal
}

const maxTemplateHoles = 32

func parseTemplate(src string) (template, error) {
	var t template
	rest := src
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return t, fmt.Errorf("unclosed {{ in %q", src)
		}
		if i > 0 {
			t.parts = append(t.parts, tpart{lit: rest[:i]})
			t.size += i
		}
		name := strings.TrimSpace(rest[i+2 : i+j])
		if !validPath(name) {
			return t, fmt.Errorf("{{%s}}: a hole holds a variable name or a dotted path such as {{item.name}}", name)
		}
		t.parts = append(t.parts, tpart{path: strings.Split(name, ".")})
		if len(t.parts) > 2*maxTemplateHoles {
			return t, fmt.Errorf("more than %d {{…}} holes", maxTemplateHoles)
		}
		rest = rest[i+j+2:]
	}
	if strings.Contains(rest, "}}") {
		return t, fmt.Errorf("}} without {{ in %q", src)
	}
	if rest != "" {
		t.parts = append(t.parts, tpart{lit: rest})
		t.size += len(rest)
	}
	return t, nil
}

func validPath(p string) bool {
	if p == "" {
		return false
	}
	for _, seg := range strings.Split(p, ".") {
		if !validIdent(seg) {
			return false
		}
	}
	return true
}

func validIdent(s string) bool {
	if s == "" || len(s) > 64 {
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

// holes returns the paths the template reads.
func (t *template) holes() [][]string {
	var out [][]string
	for _, p := range t.parts {
		if p.path != nil {
			out = append(out, p.path)
		}
	}
	return out
}

// render writes the template with values from vars; item, when not nil, is
// what {{item…}} refers to. Missing values render as nothing.
func (t *template) render(b *strings.Builder, vars map[string]any, item any) {
	for _, p := range t.parts {
		if p.path == nil {
			b.WriteString(p.lit)
			continue
		}
		var v any
		if p.path[0] == "item" && item != nil {
			v = lookup(item, p.path[1:])
		} else {
			v = lookup(vars, p.path)
		}
		writeValue(b, v)
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
