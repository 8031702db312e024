package flows

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"
	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/internal/tmpl"
)

// What the lint knows of the variables a flow reads: each step kind
// declares what it writes along each of its events (writer), the
// compiler records every expression and text a step reads, and after
// the steps are compiled the reads are checked against the paths from
// the entry step. A variable written on no path to a read is an error; one
// written on some paths only, a warning naming a path on which it is not.

// writer is a body that sets variables along some of its events.
type writer interface {
	// writes are the variables the step sets when it leaves along event.
	writes(event string) []string
}

// mayWriter is a body that sets variables along an event on some runs
// only.
type mayWriter interface {
	mayWrite(event string) []string
}

// gatewayVars are set before the first step of every conversation (chat
// only on chat platforms, and nil elsewhere: flows test it).
var gatewayVars = map[string]bool{"phone": true, "channel": true, "locale": true, "language_chosen": true, "carrier": true, "chat": true}

// span is where a scalar's characters are in the file: the position of
// its node, and how far its first character is from it (1 past a quote),
// or -1 when offsets cannot be translated (block scalars, escapes).
type span struct {
	pos   Pos
	shift int
}

func spanOf(n *yaml.Node) span {
	s := span{pos: pos(n), shift: -1}
	if strings.Contains(n.Value, "\n") {
		return s
	}
	switch n.Style {
	case 0, yaml.FlowStyle:
		s.shift = 0
	case yaml.SingleQuotedStyle:
		if !strings.Contains(n.Value, "'") {
			s.shift = 1
		}
	case yaml.DoubleQuotedStyle:
		if !strings.ContainsAny(n.Value, "\\\"") {
			s.shift = 1
		}
	}
	return s
}

// at is the position of the rune at offset runes into the scalar, or the
// scalar's own position when it cannot be told.
func (s span) at(fallback Pos, runes int) Pos {
	if s.pos == (Pos{}) {
		return fallback
	}
	if s.shift < 0 {
		return s.pos
	}
	return Pos{Line: s.pos.Line, Col: s.pos.Col + s.shift + runes}
}

// read is one expression or text a step reads.
type read struct {
	step *Step
	e    *Expr
	t    *Text
	cond bool // e must be true or false
}

// functionCalls refuses calls of functions expressions do not have (a
// misspelt builtin would be a variable, nil, at run time).
func (c *compiler) functionCalls(e *Expr) bool {
	tree, err := exprparser.Parse(e.Src)
	if err != nil {
		return true
	}
	ok := true
	ast.Find(tree.Node, func(n ast.Node) bool {
		// The parser knows every builtin of the language, also those the
		// engine disables: now() would compile and fail when it runs.
		if b, isBuiltin := n.(*ast.BuiltinNode); isBuiltin && ok {
			if _, found := slices.BinarySearch(functions(), b.Name); !found {
				why := "; the functions are listed in docs/flows.md"
				if b.Name == "now" {
					why = ": there is no clock in expressions, so that conversations replay exactly"
				}
				c.r.errorf(e.at.at(e.Pos, b.Location().From), e.Path, "unknown-function", "unknown function %s%s", b.Name, why)
				ok = false
			}
			return false
		}
		call, isCall := n.(*ast.CallNode)
		if !isCall || !ok {
			return false
		}
		at := e.at.at(e.Pos, call.Callee.Location().From)
		switch callee := call.Callee.(type) {
		case *ast.IdentifierNode:
			c.r.errorf(at, e.Path, "unknown-function", "unknown function %s%s; the functions are listed in docs/flows.md", callee.Value, suggest(callee.Value, Functions()))
		default:
			c.r.errorf(at, e.Path, "unknown-function", "only the built-in functions can be called; the functions are listed in docs/flows.md")
		}
		ok = false
		return false
	})
	return ok
}

// use is one variable read by a step, and where.
type use struct {
	step *Step
	name string
	at   Pos
	path string
	// before: set earlier in the same step (a set step's earlier lines).
	before bool
	// fields: what a text's hole looks up in the variable ({{a.b.c}}).
	fields []string
	// format: how a text's hole shows the value ({{a | money}}).
	format tmpl.Format
}

// uses lists the variables the recorded reads use.
func (c *compiler) uses() []use {
	var out []use
	for _, r := range c.reads {
		if r.e != nil {
			out = append(out, c.exprUses(r)...)
			continue
		}
		out = append(out, c.textUses(r)...)
	}
	return out
}

func (c *compiler) exprUses(r read) []use {
	tree, err := exprparser.Parse(r.e.Src)
	if err != nil {
		return nil
	}
	var earlier []string
	if set, ok := r.step.body.(*setStep); ok {
		for _, a := range set.Assign {
			if &a.Expr == r.e {
				break
			}
			earlier = append(earlier, a.Name)
		}
	}
	// Names bound inside the expression (predicates' # and let) are not
	// variables of the flow.
	bound := map[string]bool{}
	ast.Find(tree.Node, func(n ast.Node) bool {
		if v, ok := n.(*ast.VariableDeclaratorNode); ok {
			bound[v.Name] = true
		}
		return false
	})
	var out []use
	ast.Find(tree.Node, func(n ast.Node) bool {
		id, ok := n.(*ast.IdentifierNode)
		if !ok || strings.HasPrefix(id.Value, "$") || bound[id.Value] {
			return false
		}
		out = append(out, use{step: r.step, name: id.Value, at: r.e.at.at(r.e.Pos, id.Location().From), path: r.e.Path, before: slices.Contains(earlier, id.Value)})
		return false
	})
	// A called name is reported as an unknown function, not a variable.
	ast.Find(tree.Node, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallNode); ok {
			if id, ok := call.Callee.(*ast.IdentifierNode); ok {
				out = slices.DeleteFunc(out, func(u use) bool { return u.name == id.Value })
			}
		}
		return false
	})
	return out
}

func (c *compiler) textUses(r read) []use {
	t := r.t
	inList := false
	if l, ok := r.step.body.(*listStep); ok && t == &l.Label {
		inList = true
	}
	locs := make([]string, 0, len(t.tmpl))
	for loc := range t.tmpl {
		locs = append(locs, loc)
	}
	sort.Strings(locs)
	var out []use
	// A hole of a message of the flow is reported in the message, where
	// it is written.
	w := t.written()
	for _, loc := range locs {
		tp := t.tmpl[loc]
		for _, h := range tp.Holes() {
			at, path := t.Pos, t.Path
			if sp, ok := w.at[loc]; ok {
				at, path = sp.at(w.Pos, utf8.RuneCountInString(w.ByLocale[loc][:h.At])), w.Path+"."+loc
			}
			if h.Path[0] == "item" && inList {
				continue
			}
			out = append(out, use{step: r.step, name: h.Path[0], at: at, path: path, fields: h.Path[1:], format: h.Format})
		}
	}
	return out
}

// flowEdge is one transition of the flow's graph, and what it sets.
type flowEdge struct {
	to           string
	sets, maybes []string
}

// definedVars checks every read variable against the paths to its step.
func (c *compiler) definedVars() {
	f := c.f
	if _, ok := f.Steps[f.Start.ID]; !ok {
		return
	}
	out := map[string][]flowEdge{}
	written := map[string]bool{}
	for _, ev := range c.events {
		from := ev.Src[0]
		s := f.Steps[from]
		e := flowEdge{to: ev.Dst}
		if w, ok := s.body.(writer); ok {
			e.sets = w.writes(ev.Name)
		}
		if g, ok := s.body.(*gotoStep); ok && c.env.flowWrites != nil {
			e.maybes = c.env.flowWrites(g.Flow.ID)
		}
		if m, ok := s.body.(mayWriter); ok {
			e.maybes = append(e.maybes, m.mayWrite(ev.Name)...)
		}
		for _, v := range append(slices.Clone(e.sets), e.maybes...) {
			written[v] = true
		}
		out[from] = append(out[from], e)
	}
	type facts struct {
		unset map[string]string // step reachable with the variable unset → the step before it ("" at the entry)
		setTo map[string]bool   // steps reachable after it is set
	}
	memo := map[string]*facts{}
	analyse := func(v string) *facts {
		if fa, ok := memo[v]; ok {
			return fa
		}
		fa := &facts{unset: map[string]string{f.Start.ID: ""}, setTo: map[string]bool{}}
		queue := []string{f.Start.ID}
		var setQueue []string
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			for _, e := range out[id] {
				if slices.Contains(e.sets, v) || slices.Contains(e.maybes, v) {
					if !fa.setTo[e.to] {
						fa.setTo[e.to] = true
						setQueue = append(setQueue, e.to)
					}
				}
				if slices.Contains(e.sets, v) {
					continue
				}
				if _, seen := fa.unset[e.to]; !seen {
					fa.unset[e.to] = id
					queue = append(queue, e.to)
				}
			}
		}
		for len(setQueue) > 0 {
			id := setQueue[0]
			setQueue = setQueue[1:]
			for _, e := range out[id] {
				if !fa.setTo[e.to] {
					fa.setTo[e.to] = true
					setQueue = append(setQueue, e.to)
				}
			}
		}
		memo[v] = fa
		return fa
	}
	var known []string
	for v := range written {
		known = append(known, v)
	}
	for v := range gatewayVars {
		known = append(known, v)
	}
	known = append(known, f.Params...)
	sort.Strings(known)
	reported := map[string]bool{}
	for _, u := range c.uses() {
		if u.before || gatewayVars[u.name] || slices.Contains(f.Params, u.name) {
			continue
		}
		fa := analyse(u.name)
		before, unsetHere := fa.unset[u.step.ID]
		if !unsetHere {
			continue // set on every path, or not reachable at all
		}
		key := fmt.Sprintf("%s|%s|%d:%d", u.name, u.path, u.at.Line, u.at.Col)
		if reported[key] {
			continue
		}
		reported[key] = true
		if !fa.setTo[u.step.ID] {
			elsewhere := ""
			if c.env.writtenBy != nil {
				elsewhere = c.env.writtenBy(u.name, f.ID)
			}
			if elsewhere != "" {
				c.r.warnf(u.at, u.path, "maybe-unset", "%s is set by flow %q, not by this one: it is unset when a conversation starts at %q", u.name, elsewhere, f.ID)
				continue
			}
			if u.name == "item" {
				c.r.errorf(u.at, u.path, "undefined-variable", "item is never set before step %q: {{item.…}} is a list's item only in the list's label", u.step.ID)
				continue
			}
			others := slices.DeleteFunc(slices.Clone(known), func(v string) bool { return v == u.name })
			c.r.errorf(u.at, u.path, "undefined-variable", "%s is never set before step %q%s", u.name, u.step.ID, suggest(u.name, others))
			continue
		}
		path := []string{u.step.ID}
		for at := before; at != ""; at = fa.unset[at] {
			path = append(path, at)
		}
		slices.Reverse(path)
		c.r.warnf(u.at, u.path, "maybe-unset", "%s may be unset here: it is not set on the path %s", u.name, strings.Join(path, " → "))
	}
}
