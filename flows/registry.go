package flows

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Registry holds the compiled flows by id and version. The newest version
// of a flow starts new conversations; older versions stay so that a
// conversation finishes on the version it started on. A Registry is not
// changed after it is built: reloading builds a new one and swaps it.
type Registry struct {
	byID map[string]*versions
}

type versions struct {
	latest *Compiled
	all    map[int]*Compiled
}

// NewRegistry returns a registry holding flows.
func NewRegistry(flows ...*Compiled) *Registry {
	r := &Registry{byID: map[string]*versions{}}
	for _, f := range flows {
		r.add(f)
	}
	return r
}

func (r *Registry) add(f *Compiled) {
	v := r.byID[f.ID]
	if v == nil {
		v = &versions{all: map[int]*Compiled{}}
		r.byID[f.ID] = v
	}
	v.all[f.Version] = f
	if v.latest == nil || f.Version > v.latest.Version {
		v.latest = f
	}
}

// Latest returns the newest version of a flow, or nil.
func (r *Registry) Latest(id string) *Compiled {
	if v := r.byID[id]; v != nil {
		return v.latest
	}
	return nil
}

// Version returns one version of a flow, or nil.
func (r *Registry) Version(id string, version int) *Compiled {
	if v := r.byID[id]; v != nil {
		return v.all[version]
	}
	return nil
}

// IDs returns the flow ids, sorted.
func (r *Registry) IDs() []string {
	ids := make([]string, 0, len(r.byID))
	for id := range r.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Carry returns a registry with the flows of r plus the versions of old
// that r does not have, so conversations in flight on them can finish.
func (r *Registry) Carry(old *Registry) *Registry {
	out := NewRegistry()
	if old != nil {
		for _, v := range old.byID {
			for _, f := range v.all {
				out.add(f)
			}
		}
	}
	for _, v := range r.byID {
		for _, f := range v.all {
			out.add(f)
		}
		// The newest loaded version starts conversations, even if an
		// older registry had a higher number (a rollback).
		out.byID[v.latest.ID].latest = v.latest
	}
	return out
}

// Source is one flow file's bytes and the name problems report.
type Source struct {
	Name string
	Data []byte
}

// Load parses and compiles a set of flow files together, so that gotos
// between them are checked. It returns the registry of the flows without
// errors and every problem found; a flow with errors is left out.
func Load(srcs []Source, env Env) (*Registry, Problems) {
	var all Problems
	type parsed struct {
		f      *Flow
		errs   bool
		reused *Compiled
	}
	var list []parsed
	ids := map[string]bool{}
	seen := map[string]string{}
	for _, src := range srcs {
		var f *Flow
		var ps Problems
		var reused *Compiled
		if env.Reuse != nil {
			reused = env.Reuse(src)
		}
		if reused != nil {
			f = reused.Flow
		} else {
			f, ps = Parse(src.Name, src.Data)
		}
		all = append(all, ps...)
		if f == nil {
			continue
		}
		key := fmt.Sprintf("%s@%d", f.ID, f.Version)
		if prev, dup := seen[key]; dup && f.ID != "" {
			all = append(all, Problem{File: src.Name, Pos: f.fieldPos["id"], Path: "id", Code: "duplicate-id", Severity: Error,
				Message: fmt.Sprintf("flow %q version %d is also defined in %s", f.ID, f.Version, prev)})
			continue
		}
		seen[key] = src.Name
		ids[f.ID] = true
		list = append(list, parsed{f, ps.HasErrors(), reused})
	}
	if env.Flow == nil {
		env.Flow = func(id string) bool { return ids[id] }
	}
	flowsOf := make([]*Flow, len(list))
	for i, p := range list {
		flowsOf[i] = p.f
	}
	bad := gotoProblems(flowsOf, &all)
	shareWrites(flowsOf, &env)
	reg := NewRegistry()
	for _, p := range list {
		if p.reused != nil {
			if !bad[p.f] {
				reg.add(p.reused)
			}
			continue
		}
		if tooLarge(p.f.File, all) {
			// What was left unread would only bring consequences of
			// the bound ("needs at least one option" after "12000
			// options"): the bound's error is the one to fix first.
			continue
		}
		fenv := env
		var own Messages
		if env.MessagesOf != nil {
			if own = env.MessagesOf(p.f.File); own != nil {
				fenv.Messages = own
			}
		}
		cf, ps := Compile(p.f, fenv)
		all = append(all, ps...)
		if cf != nil && !p.errs && !bad[p.f] {
			cf.msgs = own
			reg.add(cf)
		}
	}
	all.Sort()
	return reg, all
}

func tooLarge(file string, ps Problems) bool {
	for _, p := range ps {
		if p.File == file && p.Code == "too-large" {
			return true
		}
	}
	return false
}

// gotoProblems finds the gotos between flows that the engine could not
// follow: a cycle (each pass nests one flow deeper until MaxNesting) and
// a chain deeper than MaxNesting. It adds an error on each goto step
// involved and returns the flows that have one.
func gotoProblems(list []*Flow, all *Problems) map[*Flow]bool {
	type edge struct {
		from *Flow
		flow Ref // the goto's flow field
		to   string
	}
	out := map[string][]edge{}
	for _, f := range list {
		for _, id := range f.Order {
			if g, ok := stepBody[*gotoStep](f.Steps[id]); ok && g.Flow.ID != "" && g.Flow.ID != f.ID {
				out[f.ID] = append(out[f.ID], edge{f, g.Flow, g.Flow.ID})
			}
		}
	}
	bad := map[*Flow]bool{}
	report := func(e edge, code, msg string) {
		if bad[e.from] && code == "goto-depth" {
			return
		}
		bad[e.from] = true
		*all = append(*all, Problem{File: e.from.File, Pos: e.flow.Pos, Path: e.flow.Path, Code: code, Severity: Error, Message: msg})
	}
	ids := make([]string, 0, len(out))
	for id := range out {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// Cycles: a depth-first walk; an edge back to a flow on the path
	// closes one, and every edge of it gets the error.
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var path []edge
	var visit func(id string)
	visit = func(id string) {
		color[id] = grey
		for _, e := range out[id] {
			switch color[e.to] {
			case grey:
				start := len(path)
				for start > 0 && path[start-1].from.ID != e.to {
					start--
				}
				if start > 0 {
					start--
				}
				cycle := append(slices.Clone(path[start:]), e)
				names := make([]string, 0, len(cycle)+1)
				for _, c := range cycle {
					names = append(names, c.from.ID)
				}
				names = append(names, e.to)
				for _, c := range cycle {
					report(c, "goto-cycle", fmt.Sprintf("flows go to each other in a cycle (%s): each pass nests one flow deeper, and a conversation fails past %d; to come back, end the called flow (kind: end) instead of going to its caller", strings.Join(rotate(names, c.from.ID), " → "), MaxNesting))
				}
			case white:
				path = append(path, e)
				visit(e.to)
				path = path[:len(path)-1]
			}
		}
		color[id] = black
	}
	for _, id := range ids {
		if color[id] == white {
			visit(id)
		}
	}
	// Depth: the longest chain of gotos from each flow, cycles aside.
	depth := map[string]int{}
	var longest func(id string, seen map[string]bool) int
	longest = func(id string, seen map[string]bool) int {
		if d, ok := depth[id]; ok {
			return d
		}
		seen[id] = true
		d := 1
		for _, e := range out[id] {
			if !seen[e.to] {
				d = max(d, 1+longest(e.to, seen))
			}
		}
		delete(seen, id)
		depth[id] = d
		return d
	}
	for _, id := range ids {
		if d := longest(id, map[string]bool{}); d > MaxNesting {
			for _, e := range out[id] {
				if 1+longest(e.to, map[string]bool{id: true}) > MaxNesting {
					report(e, "goto-depth", fmt.Sprintf("from %q, gotos can nest %d flows deep; the limit is %d", id, d, MaxNesting))
				}
			}
		}
	}
	return bad
}

// rotate returns the cycle of flow ids (first == last) starting at id.
func rotate(cycle []string, id string) []string {
	ring := cycle[:len(cycle)-1]
	i := slices.Index(ring, id)
	if i < 0 {
		return cycle
	}
	out := append(slices.Clone(ring[i:]), ring[:i]...)
	return append(out, id)
}

// shareWrites tells the compilation of each flow what the others set:
// after a goto, the variables of the flow gone to (and of those it goes
// to) may be set.
func shareWrites(list []*Flow, env *Env) {
	own := map[string][]string{}
	gotos := map[string][]string{}
	var ids []string
	for _, f := range list {
		ids = append(ids, f.ID)
		for _, id := range f.Order {
			s := f.Steps[id]
			if g, ok := stepBody[*gotoStep](s); ok {
				gotos[f.ID] = append(gotos[f.ID], g.Flow.ID)
			}
			k, known := kindByName(s.Kind)
			if !known {
				continue
			}
			for _, ev := range k.Events {
				if w, ok := s.body.(writer); ok {
					own[f.ID] = append(own[f.ID], w.writes(ev)...)
				}
				if m, ok := s.body.(mayWriter); ok {
					own[f.ID] = append(own[f.ID], m.mayWrite(ev)...)
				}
			}
		}
	}
	sort.Strings(ids)
	env.flowWrites = func(flow string) []string {
		var out []string
		seen := map[string]bool{}
		queue := []string{flow}
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			if seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, own[id]...)
			queue = append(queue, gotos[id]...)
		}
		return out
	}
	env.callerWrites = func(flow string) []string {
		var out []string
		seen := map[string]bool{flow: true}
		queue := []string{flow}
		for len(queue) > 0 {
			to := queue[0]
			queue = queue[1:]
			for _, id := range ids {
				if !seen[id] && slices.Contains(gotos[id], to) {
					seen[id] = true
					out = append(out, own[id]...)
					queue = append(queue, id)
				}
			}
		}
		return out
	}
	env.writtenBy = func(name, notFlow string) string {
		for _, id := range ids {
			if id != notFlow && slices.Contains(own[id], name) {
				return id
			}
		}
		return ""
	}
}
