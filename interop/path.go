package interop

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// pathTemplate is a compiled Service.Path: literal text and {param} holes.
type pathTemplate struct {
	parts  []pathPart
	params []string // distinct names, in order of first appearance
	size   int      // bytes of literal text, to size the output once
}

// pathPart is either literal text or, when param is set, a hole.
type pathPart struct {
	lit   string
	param string
}

// ErrMissingParam and ErrBadParam explain an Error outcome caused by the
// call's params rather than by the back-end.
var (
	ErrMissingParam = errors.New("missing path parameter")
	ErrBadParam     = errors.New("unusable parameter")
)

func parsePath(p string) (pathTemplate, error) {
	var t pathTemplate
	if p == "" {
		return t, nil
	}
	if p[0] != '/' {
		return t, fmt.Errorf("must start with \"/\", got %q", p)
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return t, fmt.Errorf("must not contain %q: params that are not in the path become the query string", p[i])
	}
	rest := p
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if closing := strings.IndexByte(rest, '}'); closing >= 0 && (open < 0 || closing < open) {
			return t, fmt.Errorf("unmatched \"}\" in %q", p)
		}
		if open < 0 {
			t.addLit(rest)
			break
		}
		if open > 0 {
			t.addLit(rest[:open])
		}
		rest = rest[open+1:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return t, fmt.Errorf("unclosed \"{\" in %q", p)
		}
		name := rest[:end]
		if !validName(name) {
			return t, fmt.Errorf("invalid parameter name {%s} in %q (use letters, digits and _)", name, p)
		}
		if n := len(t.parts); n > 0 && t.parts[n-1].param != "" {
			// "{a}{b}": no way to tell where one value ends.
			return t, fmt.Errorf("parameters {%s} and {%s} need literal text between them in %q", t.parts[n-1].param, name, p)
		}
		t.parts = append(t.parts, pathPart{param: name})
		if !slices.Contains(t.params, name) {
			t.params = append(t.params, name)
		}
		rest = rest[end+1:]
	}
	// The literal text must already be a valid escaped path: it goes on the
	// wire as written.
	var probe strings.Builder
	for _, part := range t.parts {
		if part.param != "" {
			probe.WriteString("x")
		} else {
			probe.WriteString(part.lit)
		}
	}
	if u, err := url.Parse(probe.String()); err != nil || u.EscapedPath() != probe.String() {
		return t, fmt.Errorf("invalid characters in %q (escape them, e.g. %%20 for a space)", p)
	}
	return t, nil
}

func (t *pathTemplate) addLit(s string) {
	t.parts = append(t.parts, pathPart{lit: s})
	t.size += len(s)
}

// render writes the path with every hole filled from params. Each value is
// path-escaped, so "../x" stays inside its one segment; "." and ".." alone
// would be dot segments a server may resolve, so they are refused, and so is
// an empty value, which would merge two segments.
func (t *pathTemplate) render(b *strings.Builder, params map[string]any) error {
	b.Grow(t.size + 16*len(t.params))
	for _, part := range t.parts {
		if part.param == "" {
			b.WriteString(part.lit)
			continue
		}
		v, ok := params[part.param]
		if !ok {
			return fmt.Errorf("%w {%s}", ErrMissingParam, part.param)
		}
		if v == nil {
			return fmt.Errorf("%w: {%s} has no value", ErrBadParam, part.param)
		}
		s, ok := scalar(v)
		if !ok {
			return fmt.Errorf("%w: {%s} is a %T, not a string, number or bool", ErrBadParam, part.param, v)
		}
		switch s {
		case "":
			return fmt.Errorf("%w: {%s} is empty", ErrBadParam, part.param)
		case ".", "..":
			return fmt.Errorf("%w: {%s} is a dot segment", ErrBadParam, part.param)
		}
		b.WriteString(url.PathEscape(s))
	}
	return nil
}

func (t *pathTemplate) uses(name string) bool { return slices.Contains(t.params, name) }

// validName reports whether name is letters, digits and '_', not starting
// with a digit: the rule for path parameters and environment variables.
func validName(name string) bool {
	if name == "" || ('0' <= name[0] && name[0] <= '9') {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
