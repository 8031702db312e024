package flows

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/diag"
	"github.com/ventanilla-gob/ventanilla/flows/validate"
)

// Bounds that keep a hostile or broken file from costing more than a sane one.
const (
	MaxFileSize   = 512 << 10 // bytes
	MaxSteps      = 500
	MaxDepth      = 12 // YAML nesting
	MaxExprLen    = 1000
	MaxOptions    = 20
	MaxTextLen    = 2000
	maxValidators = 8
)

// ReadTimeout bounds reading the flow files of one load (ReadFiles).
const ReadTimeout = 10 * time.Second

// ReadFile reads one flow file. Only a regular file is read, and no more
// than MaxFileSize+1 bytes of it (Parse reports a larger one): a FIFO, a
// device or a directory named like a flow is refused, never waited on.
func ReadFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s); flow files are plain files", path, st.Mode().Type())
	}
	// Non-blocking: a file swapped for a FIFO after the check still does
	// not make the open wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file; flow files are plain files", path)
	}
	return io.ReadAll(io.LimitReader(f, MaxFileSize+1))
}

// ReadFiles reads flow files (see ReadFile) within ctx: a file system
// that stops answering fails the load instead of holding it, and with it
// a reload or a shutdown.
func ReadFiles(ctx context.Context, paths []string) ([]Source, error) {
	type result struct {
		srcs []Source
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var out []Source
		for _, p := range paths {
			if err := ctx.Err(); err != nil {
				done <- result{err: err}
				return
			}
			data, err := ReadFile(p)
			if err != nil {
				done <- result{err: err}
				return
			}
			out = append(out, Source{Name: p, Data: data})
		}
		done <- result{srcs: out}
	}()
	select {
	case r := <-done:
		return r.srcs, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("reading flow files: %w", ctx.Err())
	}
}

// Parse parses one flow file's bytes. name is the file name used in problems.
// Problems found here are about form: unknown fields, wrong types, bad
// expressions. Problems that need the whole flow come from Lint.
func Parse(name string, data []byte) (*Flow, Problems) {
	r := newReport(name)
	if len(data) > MaxFileSize {
		r.errorf(Pos{Line: 1, Col: 1}, "", "too-large", "file is %d bytes; the limit is %d", len(data), MaxFileSize)
		return nil, r.Problems
	}
	root, bad := diag.Parse(name, data)
	if bad != nil {
		r.errorf(Pos{Line: max(bad.Pos.Line, 1), Col: max(bad.Pos.Col, 1)}, "", "yaml", "%s", bad.Message)
		return nil, r.Problems
	}
	if root == nil {
		r.errorf(Pos{Line: 1, Col: 1}, "", "yaml", "the file is empty")
		return nil, r.Problems
	}
	if a := diag.Anchor(root); a != nil {
		r.errorf(pos(a), "", "yaml", "anchors and aliases (&, *) are not supported in flow files; write the text out")
		return nil, r.Problems
	}
	if !checkDepth(root, 0, r) {
		return nil, r.Problems
	}
	f := &Flow{File: name, Pos: pos(root), Steps: map[string]*Step{}, fieldPos: map[string]Pos{}}
	p := &parser{r: r}
	p.flow(root, f)
	f.unread = r.unread
	return f, r.Problems
}

func checkDepth(n *yaml.Node, depth int, r *report) bool {
	if depth > MaxDepth {
		r.errorf(pos(n), "", "too-deep", "nesting deeper than %d levels", MaxDepth)
		return false
	}
	for _, c := range n.Content {
		if !checkDepth(c, depth+1, r) {
			return false
		}
	}
	return true
}

func pos(n *yaml.Node) Pos { return diag.At(n) }

type parser struct{ r *report }

// pairs walks a mapping node the way every YAML file is walked
// (diag.Report.Pairs), reporting duplicate keys.
func (p *parser) pairs(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node)) {
	p.r.Pairs(n, path, definedTwice, func(k, v *yaml.Node) { fn(k.Value, k, v) })
}

func definedTwice(key string, first Pos) string {
	return fmt.Sprintf("%q is defined twice (first at %s)", key, first)
}

func join(path, key string) string { return diag.Join(path, key) }

func describe(n *yaml.Node) string { return diag.Describe(n) }

func (p *parser) flow(root *yaml.Node, f *Flow) {
	known := make([]string, len(FlowFields))
	for i, fs := range FlowFields {
		known[i] = fs.Name
	}
	if diag.Resolve(root).Kind != yaml.MappingNode {
		// Text pasted into a flow file, or a list: that is the one
		// mistake, not each field the flow then lacks.
		p.r.errorf(pos(root), "", "wrong-type", "a flow file is a mapping of its fields (%s: …), found %s",
			strings.Join(known[:3], ": …, "), describe(root))
		return
	}
	var stepsNode *yaml.Node
	p.pairs(root, "", func(key string, k, v *yaml.Node) {
		f.fieldPos[key] = pos(k)
		switch key {
		case "spec_version":
			f.SpecVersion = p.int(v, key)
		case "id":
			f.ID = p.str(v, key)
		case "version":
			f.Version = p.int(v, key)
		case "institution":
			f.Institution = p.str(v, key)
		case "title":
			p.text(v, key, &f.Title)
		case "locales":
			f.Locales = p.strList(v, key)
			for _, c := range v.Content {
				f.localePos = append(f.localePos, pos(c))
			}
		case "start":
			f.Start = p.ref(v, key)
		case "level":
			f.Level = p.int(v, key)
		case "vars":
			f.Vars = p.vars(v, key)
		case "params":
			f.Params = p.strList(v, key)
			for _, name := range f.Params {
				if !validIdent(name) {
					p.r.errorf(pos(v), key, "bad-id", "parameter name %q: use letters, digits and _", name)
				}
			}
		case "messages":
			f.Messages = map[string]*Text{}
			p.pairs(v, key, func(id string, _, tv *yaml.Node) {
				t := &Text{}
				p.text(tv, join(key, id), t)
				f.Messages[id] = t
			})
		case "steps":
			stepsNode = v
		default:
			p.r.errorf(pos(k), key, "unknown-field", "unknown field %q%s", key, suggest(key, known))
		}
	})
	for _, fs := range FlowFields {
		if _, ok := f.fieldPos[fs.Name]; fs.Required && !ok {
			p.r.errorf(f.Pos, fs.Name, "missing-field", "the flow needs %q: %s", fs.Name, fs.Doc)
		}
	}
	if _, ok := f.fieldPos["spec_version"]; ok && f.SpecVersion != SpecVersion {
		p.r.errorf(f.fieldPos["spec_version"], "spec_version", "spec-version", "spec_version %d is not supported; this version of Ventanilla reads %d", f.SpecVersion, SpecVersion)
	}
	if f.ID != "" && !validFlowID(f.ID) {
		p.r.errorf(f.fieldPos["id"], "id", "bad-id", "flow id %q: use lower-case letters, digits and dashes", f.ID)
	}
	if _, ok := f.fieldPos["version"]; ok && f.Version < 1 {
		p.r.errorf(f.fieldPos["version"], "version", "wrong-type", "version must be 1 or more")
	}
	if f.Level < 0 || f.Level > 2 {
		p.r.errorf(f.fieldPos["level"], "level", "wrong-type", "level must be 0, 1 or 2")
	}
	if stepsNode == nil {
		return
	}
	if stepsNode.Kind == yaml.MappingNode && len(stepsNode.Content)/2 > MaxSteps {
		p.r.errorf(pos(stepsNode), "steps", "too-large", "%d steps; the limit is %d", len(stepsNode.Content)/2, MaxSteps)
		return
	}
	p.pairs(stepsNode, "steps", func(id string, k, v *yaml.Node) {
		path := join("steps", id)
		if !validIdent(strings.ReplaceAll(id, "-", "_")) {
			p.r.errorf(pos(k), path, "bad-id", "step id %q: use letters, digits, _ and -", id)
		}
		s := p.step(id, path, v)
		if s != nil {
			s.Pos = pos(k)
			f.Steps[id] = s
			f.Order = append(f.Order, id)
		} else {
			f.broken = append(f.broken, id)
		}
	})
}

func validFlowID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func (p *parser) step(id, path string, n *yaml.Node) *Step {
	if n.Kind != yaml.MappingNode {
		p.r.errorf(pos(n), path, "wrong-type", "a step is a mapping with a kind, found %s", describe(n))
		return nil
	}
	s := &Step{ID: id, Path: path, fieldPos: map[string]Pos{}, valuePos: map[string]Pos{}}
	var kindNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "kind" {
			kindNode = n.Content[i+1]
		}
	}
	if kindNode == nil {
		p.r.errorf(pos(n), path, "missing-field", "the step needs a kind: one of %s", kindNames())
		return nil
	}
	s.Kind = kindNode.Value
	spec, ok := kindByName(s.Kind)
	if !ok {
		p.r.errorf(pos(kindNode), join(path, "kind"), "unknown-kind", "unknown step kind %q%s; the kinds are %s", s.Kind, suggest(s.Kind, kindNamesList()), kindNames())
		return nil
	}
	s.body = spec.new()
	fields := append(append([]FieldSpec{}, commonFields...), spec.Fields...)
	names := make([]string, len(fields))
	for i, fs := range fields {
		names[i] = fs.Name
	}
	misspelt := map[string]bool{}
	p.pairs(n, path, func(key string, k, v *yaml.Node) {
		s.fieldPos[key] = pos(k)
		s.valuePos[key] = pos(v)
		var fs *FieldSpec
		for i := range fields {
			if fields[i].Name == key {
				fs = &fields[i]
			}
		}
		if fs == nil {
			p.r.errorf(pos(k), join(path, key), "unknown-field", "%s step has no field %q%s", article(s.Kind), key, suggest(key, names))
			if near := closest(key, names); near != "" {
				misspelt[near] = true
			}
			return
		}
		if fs.bind == nil {
			if key == "note" {
				p.str(v, join(path, key))
			}
			return
		}
		p.value(fs, v, join(path, key), fs.bind(s.body))
	})
	if len(misspelt) > 0 {
		s.misspelt = true
	}
	for _, fs := range spec.Fields {
		// A misspelt field is the one fault, not also a missing one.
		if _, ok := s.fieldPos[fs.Name]; fs.Required && !ok && !misspelt[fs.Name] {
			p.r.errorf(pos(n), path, "missing-field", "%s step needs %q: %s", article(s.Kind), fs.Name, fs.Doc)
		}
	}
	return s
}

// article puts "a" or "an" before a kind's name.
func article(kind string) string {
	if kind != "" && strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

func kindNamesList() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.Name
	}
	return out
}

func kindNames() string { return strings.Join(kindNamesList(), ", ") }

// value decodes one field by its declared type into dst.
func (p *parser) value(fs *FieldSpec, n *yaml.Node, path string, dst any) {
	switch d := dst.(type) {
	case *Text:
		p.text(n, path, d)
	case *Ref:
		*d = p.ref(n, path)
	case *Expr:
		*d = p.expr(n, path)
	case *int:
		*d = p.int(n, path)
	case *bool:
		*d = p.bool(n, path)
	case *string:
		*d = p.str(n, path)
	case *[]*MenuOption:
		*d = p.options(n, path)
	case *[]*Case:
		*d = p.cases(n, path)
	case *[]*Assign:
		*d = p.assigns(n, path, fs.Type)
	case *[]ValidatorSpec:
		*d = p.validators(n, path)
	case *[]Ref:
		*d = p.refs(n, path)
	case *map[string]Ref:
		*d = map[string]Ref{}
		p.pairs(n, path, func(key string, k, v *yaml.Node) {
			r := p.ref(v, join(path, key))
			r.key = pos(k)
			(*d)[key] = r
		})
	default:
		panic(fmt.Sprintf("flows: field %s has no decoder for %T", path, dst))
	}
}

func (p *parser) scalar(n *yaml.Node, path, want string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.r.misread(pos(n), path, "expected %s, found %s", want, describe(n))
		return false
	}
	return true
}

func (p *parser) str(n *yaml.Node, path string) string {
	if !p.scalar(n, path, "a text value") {
		return ""
	}
	return n.Value
}

func (p *parser) int(n *yaml.Node, path string) int {
	if !p.scalar(n, path, "a whole number") {
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || n.Tag != "!!int" {
		p.r.misread(pos(n), path, "expected a whole number, found %q", n.Value)
		return 0
	}
	return v
}

func (p *parser) bool(n *yaml.Node, path string) bool {
	if !p.scalar(n, path, "true or false") {
		return false
	}
	if n.Tag != "!!bool" || (n.Value != "true" && n.Value != "false") {
		p.r.misread(pos(n), path, "expected true or false, found %q", n.Value)
		return false
	}
	return n.Value == "true"
}

func (p *parser) strList(n *yaml.Node, path string) []string {
	if n.Kind != yaml.SequenceNode {
		p.r.errorf(pos(n), path, "wrong-type", "expected a list such as [es, en], found %s", describe(n))
		return nil
	}
	var out []string
	for i, c := range n.Content {
		out = append(out, p.str(c, fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}

func (p *parser) ref(n *yaml.Node, path string) Ref {
	return Ref{ID: p.str(n, path), Pos: pos(n), Path: path}
}

// refs reads a list of scalars (or one), each with its position.
func (p *parser) refs(n *yaml.Node, path string) []Ref {
	if n.Kind == yaml.ScalarNode {
		return []Ref{p.ref(n, path)}
	}
	if n.Kind != yaml.SequenceNode {
		p.r.errorf(pos(n), path, "wrong-type", "expected a list such as [24h, 2h], found %s", describe(n))
		return nil
	}
	out := make([]Ref, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, p.ref(c, fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}

func (p *parser) expr(n *yaml.Node, path string) Expr {
	src := p.str(n, path)
	if len(src) > MaxExprLen {
		p.r.errorf(pos(n), path, "too-large", "expression of %d characters; the limit is %d", len(src), MaxExprLen)
		src = ""
	}
	return Expr{Src: src, Pos: pos(n), Path: path, at: spanOf(n)}
}

func (p *parser) text(n *yaml.Node, path string, t *Text) {
	t.Pos, t.Path, t.set = pos(n), path, true
	switch n.Kind {
	case yaml.ScalarNode:
		t.MsgID = p.str(n, path)
	case yaml.MappingNode:
		t.ByLocale = map[string]string{}
		p.pairs(n, path, func(loc string, _, v *yaml.Node) {
			s := p.str(v, join(path, loc))
			if len(s) > MaxTextLen {
				p.r.errorf(pos(v), join(path, loc), "too-large", "text of %d bytes; the limit is %d", len(s), MaxTextLen)
				return
			}
			t.ByLocale[loc] = s
			if t.at == nil {
				t.at = map[string]span{}
			}
			t.at[loc] = spanOf(v)
		})
	default:
		p.r.errorf(pos(n), path, "wrong-type", "a text is {es: …, en: …} or a message id, found %s", describe(n))
	}
}

func (p *parser) vars(n *yaml.Node, path string) map[string]VarDecl {
	out := map[string]VarDecl{}
	p.pairs(n, path, func(name string, k, v *yaml.Node) {
		vp := join(path, name)
		if !validPath(name) {
			p.r.errorf(pos(k), vp, "bad-id", "variable name %q: use letters, digits and _ (dots for fields)", name)
		}
		d := VarDecl{Pos: pos(k)}
		p.pairs(v, vp, func(key string, kk, vv *yaml.Node) {
			switch key {
			case "max_length":
				d.MaxLength = p.int(vv, join(vp, key))
			default:
				p.r.errorf(pos(kk), join(vp, key), "unknown-field", "a variable declaration has only max_length")
			}
		})
		out[name] = d
	})
	return out
}

// entries reads a list of mappings — a menu's options, a branch's cases —
// of at most MaxOptions. entry is called with each mapping and its path
// and returns what reads the mapping's fields; every entry needs the
// required fields.
func (p *parser) entries(n *yaml.Node, path, plural, shape, singular string, required []string, entry func(c *yaml.Node, ep string) func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		p.r.errorf(pos(n), path, "wrong-type", "%s are a list of %s, found %s", plural, shape, describe(n))
		return
	}
	if len(n.Content) > MaxOptions {
		p.r.errorf(pos(n), path, "too-large", "%d %s; the limit is %d", len(n.Content), plural, MaxOptions)
		return
	}
	for i, c := range n.Content {
		ep := fmt.Sprintf("%s[%d]", path, i)
		field := entry(c, ep)
		got := map[string]bool{}
		p.pairs(c, ep, func(key string, k, v *yaml.Node) {
			got[key] = true
			field(key, k, v)
		})
		for _, req := range required {
			if c.Kind == yaml.MappingNode && !got[req] {
				p.r.errorf(pos(c), ep, "missing-field", "the %s needs %q", singular, req)
			}
		}
	}
}

func (p *parser) options(n *yaml.Node, path string) []*MenuOption {
	var out []*MenuOption
	p.entries(n, path, "options", "{label, next}", "option", []string{"label", "next"}, func(c *yaml.Node, op string) func(string, *yaml.Node, *yaml.Node) {
		o := &MenuOption{Pos: pos(c), Path: op}
		out = append(out, o)
		return func(key string, k, v *yaml.Node) {
			switch key {
			case "label":
				p.text(v, join(op, key), &o.Label)
			case "next":
				o.Next = p.ref(v, join(op, key))
			case "when":
				o.When = p.expr(v, join(op, key))
			default:
				p.r.errorf(pos(k), join(op, key), "unknown-field", "an option has label, next and when, not %q%s", key, suggest(key, []string{"label", "next", "when"}))
			}
		}
	})
	return out
}

func (p *parser) cases(n *yaml.Node, path string) []*Case {
	var out []*Case
	p.entries(n, path, "cases", "{when, next}", "case", []string{"when", "next"}, func(c *yaml.Node, cp string) func(string, *yaml.Node, *yaml.Node) {
		cs := &Case{Pos: pos(c), Path: cp}
		out = append(out, cs)
		return func(key string, k, v *yaml.Node) {
			switch key {
			case "when":
				cs.When = p.expr(v, join(cp, key))
			case "next":
				cs.Next = p.ref(v, join(cp, key))
			default:
				p.r.errorf(pos(k), join(cp, key), "unknown-field", "a case has when and next, not %q", key)
			}
		}
	})
	return out
}

func (p *parser) assigns(n *yaml.Node, path string, typ FieldType) []*Assign {
	var out []*Assign
	p.pairs(n, path, func(name string, k, v *yaml.Node) {
		ap := join(path, name)
		if !validIdent(name) {
			p.r.errorf(pos(k), ap, "bad-id", "variable name %q: use letters, digits and _", name)
		}
		out = append(out, &Assign{Name: name, Expr: p.expr(v, ap), Pos: pos(k), Path: ap})
	})
	if len(out) > 50 {
		p.r.errorf(pos(n), path, "too-large", "%d entries; the limit is 50", len(out))
	}
	return out
}

func (p *parser) validators(n *yaml.Node, path string) []ValidatorSpec {
	var items []*yaml.Node
	switch n.Kind {
	case yaml.MappingNode:
		items = []*yaml.Node{n}
	case yaml.SequenceNode:
		items = n.Content
	default:
		p.r.errorf(pos(n), path, "wrong-type", "validate is {kind: …} or a list of them, found %s", describe(n))
		return nil
	}
	if len(items) > maxValidators {
		p.r.errorf(pos(n), path, "too-large", "%d validators; the limit is %d", len(items), maxValidators)
		return nil
	}
	var out []ValidatorSpec
	for i, c := range items {
		vp := path
		if n.Kind == yaml.SequenceNode {
			vp = fmt.Sprintf("%s[%d]", path, i)
		}
		spec := validate.Spec{Args: map[string]any{}}
		argPos := map[string]Pos{}
		p.pairs(c, vp, func(key string, k, v *yaml.Node) {
			argPos[key] = pos(k)
			if key == "kind" {
				spec.Kind = p.str(v, join(vp, key))
				return
			}
			var val any
			if err := v.Decode(&val); err != nil || v.Kind != yaml.ScalarNode {
				p.r.errorf(pos(v), join(vp, key), "wrong-type", "a validator argument is a single value")
				return
			}
			spec.Args[key] = val
		})
		if spec.Kind == "" && c.Kind == yaml.MappingNode {
			p.r.errorf(pos(c), vp, "missing-field", "the validator needs a kind")
			continue
		}
		out = append(out, ValidatorSpec{Spec: spec, Pos: pos(c), Path: vp, ArgPos: argPos})
	}
	return out
}

// ListDir lists the *.yaml and *.yml files of a directory (not recursive).
func ListDir(dir string) ([]string, error) {
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	return files, nil
}
