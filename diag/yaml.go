package diag

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Report collects the problems of one file.
type Report struct {
	File     string
	Problems Problems
	// Grade is the severity of what the walk itself finds (keys given
	// twice, merge keys, keys that are not names): Error for a file kind
	// whose problems are graded, zero for one that has no grades.
	Grade Severity
}

// Add appends p, in the report's file.
func (r *Report) Add(p Problem) {
	p.File = r.File
	r.Problems = append(r.Problems, p)
}

// At reports an ungraded problem at node n.
func (r *Report) At(n *yaml.Node, path, format string, args ...any) {
	r.Add(Problem{Pos: At(n), Path: path, Message: fmt.Sprintf(format, args...)})
}

// Errorf reports an error.
func (r *Report) Errorf(pos Pos, path, code, format string, args ...any) {
	r.Add(Problem{Pos: pos, Path: path, Code: code, Severity: Error, Message: fmt.Sprintf(format, args...)})
}

// Warnf reports a warning.
func (r *Report) Warnf(pos Pos, path, code, format string, args ...any) {
	r.Add(Problem{Pos: pos, Path: path, Code: code, Severity: Warning, Message: fmt.Sprintf(format, args...)})
}

func (r *Report) walk(n *yaml.Node, path, code, format string, args ...any) {
	r.Add(Problem{Pos: At(n), Path: path, Code: code, Severity: r.Grade, Message: fmt.Sprintf(format, args...)})
}

// At is where node n is written.
func At(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// Parse reads the first document of a YAML file and returns its root
// node, nil when the file holds none (empty, or only comments). A syntax
// error comes back as a Problem at the line and column of the mistake
// (see SyntaxError).
func Parse(file string, data []byte) (*yaml.Node, *Problem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p := SyntaxError(file, data, err)
		return nil, &p
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// maxAliasHops bounds how far Resolve follows an alias of an alias.
const maxAliasHops = 8

// Resolve follows aliases (*name) to the node they stand for.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < maxAliasHops; i++ {
		n = n.Alias
	}
	return n
}

// Anchor returns the first node, in the order written, that carries an
// anchor (&name) or is an alias (*name), or nil: for file kinds that
// refuse them.
func Anchor(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return n
	}
	for _, c := range n.Content {
		if a := Anchor(c); a != nil {
			return a
		}
	}
	return nil
}

// Pairs calls fn for each key of mapping n, in order, with the value's
// aliases followed. It reports, and passes over, merge keys (<<), keys
// that are not plain names and keys given twice; dup words the last,
// `key "k" appears twice (first at 3:1)` when nil. A node that is not a
// mapping is reported as such.
func (r *Report) Pairs(n *yaml.Node, path string, dup func(key string, first Pos) string, fn func(k, v *yaml.Node)) {
	n = Resolve(n)
	if n.Kind != yaml.MappingNode {
		r.walk(n, path, "wrong-type", "expected a mapping (key: value), found %s", Describe(n))
		return
	}
	seen := make(map[string]Pos, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.ShortTag() == "!!merge":
			r.walk(k, path, "wrong-type", "merge keys (<<) are not supported: write the fields out")
			continue
		case k.Kind != yaml.ScalarNode:
			r.walk(k, path, "wrong-type", "keys must be plain names")
			continue
		}
		if first, ok := seen[k.Value]; ok {
			msg := fmt.Sprintf("key %q appears twice (first at %s)", k.Value, first)
			if dup != nil {
				msg = dup(k.Value, first)
			}
			r.walk(k, Join(path, k.Value), "duplicate-id", "%s", msg)
			continue
		}
		seen[k.Value] = At(k)
		fn(k, Resolve(v))
	}
}

// Unknown reports key, which is none of known, with the name the author
// probably meant: `unknown field "methd" (did you mean "method"?)`.
func (r *Report) Unknown(k *yaml.Node, path string, known []string) {
	r.walk(k, Join(path, k.Value), "unknown-field", "unknown field %q%s", k.Value, DidYouMean(k.Value, known))
}

// Describe names what a node holds, for "expected …, found …".
func Describe(n *yaml.Node) string {
	switch Resolve(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", Excerpt(n.Value))
	}
	return "something else"
}

// excerptLen bounds how much of a value a problem quotes: a file of text
// where fields belong is up to the loaders' file limit long.
const excerptLen = 40

// Excerpt returns s, or its first characters and "…" when it is longer
// than a problem should quote.
func Excerpt(s string) string {
	n := 0
	for i := range s {
		if n == excerptLen {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// Find returns the key node and the value node at a dotted path below
// mapping n ("services.turnos.book.method"), following aliases the way
// Pairs does; keys may hold dots themselves. A list item is a number:
// "steps.menu.options.2". ok is false when nothing is written there.
func Find(n *yaml.Node, path string) (key, val *yaml.Node, ok bool) {
	n = Resolve(n)
	if n == nil || path == "" {
		return nil, n, n != nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		// Keys with dots of their own are tried first, longest first.
		var k, v *yaml.Node
		best := -1
		for i := 0; i+1 < len(n.Content); i += 2 {
			name := n.Content[i].Value
			if len(name) > best && (path == name || strings.HasPrefix(path, name+".")) {
				if name == path {
					return n.Content[i], Resolve(n.Content[i+1]), true
				}
				if kk, vv, found := Find(n.Content[i+1], path[len(name)+1:]); found {
					k, v, best = kk, vv, len(name)
				}
			}
		}
		return k, v, best >= 0
	case yaml.SequenceNode:
		head, rest, _ := strings.Cut(path, ".")
		i, err := strconv.Atoi(head)
		if err != nil || i < 0 || i >= len(n.Content) {
			return nil, nil, false
		}
		if rest == "" {
			return n.Content[i], Resolve(n.Content[i]), true
		}
		return Find(n.Content[i], rest)
	}
	return nil, nil, false
}
