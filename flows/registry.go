package flows

import (
	"fmt"
	"sort"
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
		f    *Flow
		errs bool
	}
	var list []parsed
	ids := map[string]bool{}
	seen := map[string]string{}
	for _, src := range srcs {
		f, ps := Parse(src.Name, src.Data)
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
		list = append(list, parsed{f, ps.HasErrors()})
	}
	if env.Flow == nil {
		env.Flow = func(id string) bool { return ids[id] }
	}
	reg := NewRegistry()
	for _, p := range list {
		cf, ps := Compile(p.f, env)
		all = append(all, ps...)
		if cf != nil && !p.errs {
			reg.add(cf)
		}
	}
	all.Sort()
	return reg, all
}
