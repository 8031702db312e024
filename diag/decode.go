package diag

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decode decodes a YAML file into v strictly: a key v has no field for
// stops it, at its line and column, with the field probably meant. Every
// problem is returned, as Problems; nil when the file decodes.
func Decode(file string, data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil || errors.Is(err, io.EOF) { // io.EOF: an empty file
		return nil
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return Problems{SyntaxError(file, err)}
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	known := fieldNames(reflect.TypeOf(v), map[reflect.Type]bool{})
	var ps Problems
	for _, msg := range te.Errors {
		p := SyntaxError(file, errors.New(msg))
		p.Code = ""
		if m := notFound.FindStringSubmatch(p.Message); m != nil {
			p.Message = fmt.Sprintf("unknown field %q%s", m[1], DidYouMean(m[1], known))
			if k := keyAt(&root, m[1], p.Pos.Line); k != nil {
				p.Pos = At(k)
			}
		}
		ps = append(ps, p)
	}
	return ps
}

var notFound = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

// keyAt finds the key named name written on line.
func keyAt(n *yaml.Node, name string, line int) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value == name && k.Line == line {
				return k
			}
		}
	}
	for _, c := range n.Content {
		if k := keyAt(c, name, line); k != nil {
			return k
		}
	}
	return nil
}

// fieldNames lists the YAML names of the fields of t and of the structs
// it holds, for "did you mean".
func fieldNames(t reflect.Type, seen map[reflect.Type]bool) []string {
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array) {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		out = append(out, name)
		out = append(out, fieldNames(f.Type, seen)...)
	}
	return out
}
