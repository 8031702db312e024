package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/institution"
	"github.com/ventanilla-gob/ventanilla/internal/institution/services"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// listFlag is a flag that may be given several times, or once with
// comma-separated values (as its environment variable is).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// bundle is what the configuration files produce: the flows, the services
// they call, the words and codes that open them, and the packages they
// came from (nil with --flows, which replaces the packages).
type bundle struct {
	reg      *flows.Registry
	services *interop.Registry
	keywords map[string]gateway.Keyword
	routes   map[string]string
	set      *institution.Set
	// templates are the packages' notification templates, by institution.
	templates map[string]*notify.Templates
	// compiled are the packages' flows by the source they were compiled
	// from, for a per-package reload to take those of the other packages
	// as they are.
	compiled map[sourceKey]*flows.Compiled
}

// sourceKey is a flow file as read: its name and the very bytes read. A
// package read again has new bytes, so its flows never match; those of
// the packages a per-package reload keeps are the same slices.
type sourceKey struct {
	name string
	data *byte
	size int
}

func keyOf(src flows.Source) sourceKey {
	k := sourceKey{name: src.Name, size: len(src.Data)}
	if len(src.Data) > 0 {
		k.data = &src.Data[0]
	}
	return k
}

// reusable returns what a reload of package only may take of compiled
// (the flows of the running packages): every flow but those of only and
// of the packages only shares services with, whose calls it may change.
func reusable(compiled map[sourceKey]*flows.Compiled, pkgs []*institution.Package, only string) func(flows.Source) *flows.Compiled {
	if compiled == nil || only == "" {
		return nil
	}
	redo := map[string]bool{only: true}
	for _, p := range pkgs {
		if p.ID() != only {
			continue
		}
		for _, sh := range p.Manifest.Shares {
			for _, inst := range sh.With {
				redo[inst] = true
			}
		}
	}
	skip := map[string]bool{}
	for _, p := range pkgs {
		if redo[p.ID()] {
			for _, src := range p.Flows {
				skip[src.Name] = true
			}
		}
	}
	return func(src flows.Source) *flows.Compiled {
		if skip[src.Name] {
			return nil
		}
		return compiled[keyOf(src)]
	}
}

// overridesOf returns, for Env.MessagesOf, the system messages of each
// flow file of a package with overrides: the catalogue with the
// institution's texts laid over it, once per package.
func overridesOf(pkgs []*institution.Package, msgs *i18n.Catalog) func(file string) flows.Messages {
	if msgs == nil {
		return nil
	}
	byFile := map[string]flows.Messages{}
	for _, p := range pkgs {
		if p.Overrides.Len() == 0 {
			continue
		}
		own := msgs.With(p.Overrides)
		for _, src := range p.Flows {
			byFile[src.Name] = own
		}
	}
	if len(byFile) == 0 {
		return nil
	}
	return func(file string) flows.Messages { return byFile[file] }
}

// usesPackages reports whether paths (lint and test arguments) name
// packages rather than flow files.
func usesPackages(paths []string) bool {
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			if institution.IsPackage(p) {
				return true
			}
			if entries, err := os.ReadDir(p); err == nil {
				for _, e := range entries {
					if e.IsDir() && institution.IsPackage(p+"/"+e.Name()) {
						return true
					}
				}
			}
		}
	}
	return false
}

// packagesEnv resolves ${VAR} in packages' services files. An unset
// variable of the national package gets a placeholder (its services
// point at the sample back-end, which `demo` sets); in lint every unset
// variable does, since the lint checks which services exist, not where.
func packagesEnv(getenv func(string) (string, bool), lint bool) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := getenv(name); ok {
			return v, true
		}
		if lint || strings.HasPrefix(name, envPrefix) {
			return lintEnv(name)
		}
		return "", false
	}
}

// readPackages reads the packages to serve: the catalogue unless left
// out, then those of dirs. With only set, the package of that
// institution is read again from its folder and the others are taken
// from prev as they are: one institution's release never brings in
// another's unfinished edits.
func (c *config) readPackages(dirs []string, only string, prev []*institution.Package) ([]*institution.Package, flows.Problems, error) {
	if only != "" {
		var out []*institution.Package
		found := false
		for _, p := range prev {
			if p.ID() != only {
				out = append(out, p)
				continue
			}
			found = true
			if p.Dir == catalogue.Name {
				return nil, nil, fmt.Errorf("package %q is embedded in the binary; it changes with the binary", only)
			}
			np, ps, err := institution.ReadDir(context.Background(), p.Dir)
			if err != nil || np == nil {
				return nil, ps, errors.Join(err, fmt.Errorf("package %q does not load", only))
			}
			if np.ID() != only {
				return nil, ps, fmt.Errorf("the folder of package %q now says institution %q", only, np.ID())
			}
			out = append(out, np)
			if ps.HasErrors() {
				return nil, ps, fmt.Errorf("package %q has errors", only)
			}
		}
		if !found {
			var ids []string
			for _, p := range prev {
				ids = append(ids, p.ID())
			}
			return nil, nil, fmt.Errorf("no package %q is loaded (packages: %s)", only, strings.Join(ids, ", "))
		}
		return out, nil, nil
	}
	var out []*institution.Package
	if !c.NoCatalogue {
		out = append(out, catalogue.Package())
	}
	pkgs, problems, err := institution.ReadAll(context.Background(), dirs)
	if err != nil {
		return nil, problems, err
	}
	out = append(out, pkgs...)
	if len(out) == 0 {
		return nil, problems, errors.New("no packages: --no-catalogue and no --packages")
	}
	return out, problems, nil
}

// loadBundle loads what serve, lint, test and simulate run. paths are the
// lint and test arguments; none means the configured ones. With only set
// (a per-package reload) prev are the packages running.
func (c *config) loadBundle(paths []string, msgs *i18n.Catalog, getenv func(string) (string, bool), lint bool, only string, prev []*institution.Package, compiled map[sourceKey]*flows.Compiled) (*bundle, flows.Problems, error) {
	legacy := c.FlowsDir != "" || c.Services != ""
	dirs := []string(c.Packages)
	if len(paths) > 0 {
		legacy = !usesPackages(paths)
		dirs = paths
	}
	if legacy {
		if len(c.Packages) > 0 {
			return nil, nil, errors.New("--flows and --services replace the packages; use --packages alone (the catalogue is a package)")
		}
		return c.loadLegacy(paths, msgs, getenv, lint)
	}
	pkgs, problems, err := c.readPackages(dirs, only, prev)
	if err != nil {
		return nil, problems, err
	}
	keywords, err := c.keywords()
	if err != nil {
		return nil, problems, err
	}
	routes, err := c.routes()
	if err != nil {
		return nil, problems, err
	}
	var parsed services.Collector
	opts := institution.Options{Root: c.Root, Getenv: packagesEnv(getenv, lint), Keyword: gateway.NormalizeKeyword, Services: parsed.Parse,
		GatewayKeywords: map[string]string{}, GatewayRoutes: routes}
	for w, kw := range keywords {
		to := kw.Flow
		if kw.Stop {
			to = "stop"
		}
		opts.GatewayKeywords[w] = "--keywords " + w + "=" + to
	}
	if !lint {
		opts.Secrets = getenv
	}
	set, ps := institution.Compose(pkgs, opts)
	problems = append(problems, ps...)
	registry, err := parsed.Registry()
	if err != nil {
		// A service declared twice: Compose reported it with both files.
		registry = interop.NewRegistry()
	}
	env := flows.Env{Messages: msgs, Measure: measureUSSD, LateResults: lateResults(getenv)}
	env.Service = func(id string) bool {
		_, ok := registry.Lookup(id)
		// A service whose file did not load has its errors there.
		return ok || set.Unloaded(id)
	}
	env.ServiceIDs = registry.IDs
	env.MessagesOf = overridesOf(set.Packages, msgs)
	// Only the reloaded package (and those using its services) is
	// compiled again; the old packages as well as the new one are in
	// prev and pkgs, for their shares.
	env.Reuse = reusable(compiled, slices.Concat(prev, pkgs), only)
	reg, ps := flows.Load(set.Sources, env)
	for _, p := range ps {
		// The composed menus grow with every package and are paged like
		// any menu: their length is no one's to shorten.
		if p.Code == "screen-too-long" && institution.Composed(p.File) {
			continue
		}
		problems = append(problems, p)
	}
	b := &bundle{reg: reg, services: registry, set: set, templates: map[string]*notify.Templates{}, compiled: map[sourceKey]*flows.Compiled{}}
	byFile := map[string]*flows.Compiled{}
	for _, id := range reg.IDs() {
		cf := reg.Latest(id)
		byFile[cf.File] = cf
	}
	for _, p := range set.Packages {
		for _, src := range p.Flows {
			if cf := byFile[src.Name]; cf != nil {
				b.compiled[keyOf(src)] = cf
			}
		}
	}
	for _, p := range set.Packages {
		if p.Templates == nil {
			continue
		}
		t, err := notify.ParseTemplates(p.Templates.Name, p.Templates.Data)
		var tps notify.Problems
		switch {
		case errors.As(err, &tps):
			for _, tp := range tps {
				tp.Severity = flows.Error
				if tp.Code == "" {
					tp.Code = "templates"
				}
				problems = append(problems, tp)
			}
		case err != nil:
			problems = append(problems, flows.Problem{File: p.Templates.Name, Pos: flows.Pos{Line: 1, Col: 1}, Code: "templates", Severity: flows.Error, Message: err.Error()})
		default:
			b.templates[p.ID()] = t
		}
	}
	problems.Sort()
	if b.keywords, err = c.keywords(); err != nil {
		return nil, problems, err
	}
	for _, w := range sortedKeys(set.Keywords) {
		if kw, dup := b.keywords[w]; dup {
			return nil, problems, fmt.Errorf("--keywords: %s (opens %q) is also claimed by a package's entry (opens %q)", w, kw.Flow, set.Keywords[w])
		}
		b.keywords[w] = gateway.Keyword{Flow: set.Keywords[w]}
	}
	if b.routes, err = c.routes(); err != nil {
		return nil, problems, err
	}
	for _, code := range sortedKeys(set.Routes) {
		if flow, dup := b.routes[code]; dup {
			return nil, problems, fmt.Errorf("--routes: %s (opens %q) is also claimed by a package's entry (opens %q)", code, flow, set.Routes[code])
		}
		b.routes[code] = set.Routes[code]
	}
	return b, problems, nil
}

// loadLegacy loads flow files and one services file as before packages
// existed: --flows replaces the catalogue. The catalogue's keywords stay
// on for its flows that are loaded, while --keywords is its default.
func (c *config) loadLegacy(paths []string, msgs *i18n.Catalog, getenv func(string) (string, bool), lint bool) (*bundle, flows.Problems, error) {
	svcEnv := getenv
	if lint {
		svcEnv = lintEnv
	}
	services, err := c.services(svcEnv)
	if err != nil {
		return nil, nil, err
	}
	reg, problems, err := c.loadFlows(paths, msgs, services, getenv)
	if err != nil {
		return nil, problems, err
	}
	b := &bundle{reg: reg, services: services}
	if b.keywords, err = c.keywords(); err != nil {
		return nil, problems, err
	}
	if c.Keywords == defaultKeywords {
		for _, e := range catalogue.Package().Manifest.Entries {
			for _, w := range e.Keywords {
				if reg.Latest(e.Flow) != nil {
					b.keywords[gateway.NormalizeKeyword(w)] = gateway.Keyword{Flow: e.Flow}
				}
			}
		}
	}
	if b.routes, err = c.routes(); err != nil {
		return nil, problems, err
	}
	return b, problems, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
