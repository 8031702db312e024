package institution

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// Options are what composing a set needs from the gateway.
type Options struct {
	// Root is the id of the composed national menu (default "inicio").
	Root string
	// Getenv resolves ${VAR} in services files; a variable must be under
	// its institution's prefix (see Prefix).
	Getenv func(string) (string, bool)
	// Secrets reads a callback's secret_env from the environment as it
	// is: a signing secret is never a placeholder. Nil leaves the secrets
	// unread and the set without callbacks (the lint, which checks a
	// package without the environment it will run in); their names are
	// checked all the same.
	Secrets func(string) (string, bool)
	// Keyword normalises a keyword as the gateway compares them (default:
	// upper case).
	Keyword func(string) string
	// GatewayKeywords are the words the gateway answers itself, as
	// normalised, each with how it was configured (`--keywords
	// SALIR=stop`); GatewayRoutes are the service codes the operator
	// routes (code → flow). An entry may claim neither.
	GatewayKeywords map[string]string
	GatewayRoutes   map[string]string
	// Services parses one package's services file (with getenv, which
	// resolves its secrets) and returns its problems; nil checks only the
	// ids the file declares. The gateway parses with interop here, so that
	// this package (and the embedded catalogue, which composes with it)
	// stays free of the back-end client.
	Services func(src flows.Source, getenv func(string) (string, bool)) flows.Problems
}

// Set is a group of packages checked together, and what the gateway runs
// from them.
type Set struct {
	Packages []*Package // the national one first, then by institution id
	Sources  []flows.Source
	Keywords map[string]string // normalised word → flow
	Routes   map[string]string // short code → flow
	Entries  []*Listed         // the catalogue, in menu order
	owner    map[string]string // flow id → institution
	services map[string]string // service id → institution
	composed []string          // ids of the composed flows
	// entrances are the entries by the flow their keywords and short
	// codes open.
	entrances map[string][]*Listed
	unloaded  map[string]bool // services of services files that did not load
	unread    map[string]bool // institutions whose services file is not YAML
	// callbacks are the endpoints of the institutions that have one,
	// with their secrets read.
	callbacks map[string]callbacks.Endpoint
}

// Callback returns where institution hears back, with its secret; false
// when it has no callback.
func (s *Set) Callback(institution string) (callbacks.Endpoint, bool) {
	ep, ok := s.callbacks[institution]
	return ep, ok
}

// Listed is one catalogue entry with its institution.
type Listed struct {
	*Entry
	Institution *Manifest
	Category    *Category
	Languages   []string
	// Opens is the flow keywords and short codes start: the entry's flow,
	// or for a draft the gate that lets only testers through.
	Opens string
}

// Draft reports whether the entry is shown to testers only.
func (l *Listed) Draft() bool { return l.Entry.Draft || l.Institution.Draft }

// Hidden reports whether flow, which a keyword or short code opens, is
// an entry's that this citizen may not see: a draft's to anyone but its
// testers, or one not offered on the channel (channel "ussd", "sms" or
// "chat", and the carrier). The gateway then takes the word or code as
// one nobody claimed. A draft's gate lets testers through as well (see
// menu); this spares anyone else the answers meant for the draft being
// given to the national menu.
func (s *Set) Hidden(flow, phone, channel, carrier, chat string) bool {
	list := s.entrances[flow]
	for _, l := range list {
		if !l.hides(phone, channel, carrier, chat) {
			return false
		}
	}
	return len(list) > 0
}

func (l *Listed) hides(phone, channel, carrier, chat string) bool {
	if !l.offered(channel, carrier) {
		return true
	}
	if !l.Draft() {
		return false
	}
	m := l.Institution
	if phone != "" && slices.Contains(m.Testers.Phones, phone) {
		return false
	}
	return carrier != "telegram" || chat == "" || !slices.Contains(m.Testers.Telegram, chat)
}

// offered reports whether the entry is offered on a hop's channel, as the
// menu's conditions decide it (see when).
func (l *Listed) offered(channel, carrier string) bool {
	for _, ch := range l.Channels {
		switch ch {
		case "ussd", "sms":
			if channel == ch {
				return true
			}
		default:
			if carrier == ch {
				return true
			}
		}
	}
	return len(l.Channels) == 0
}

// Owner returns the institution of a flow, "" for the composed ones.
func (s *Set) Owner(flow string) string { return s.owner[flow] }

// Owners returns, for metrics, the institution of every flow and every
// back-end service the set serves. The composed flows (the national menu
// and its pages) count as the national package's. The maps are fresh
// copies.
func (s *Set) Owners() (flows, services map[string]string) {
	national := ""
	for _, p := range s.Packages {
		if p.Manifest.National {
			national = p.ID()
		}
	}
	flows = make(map[string]string, len(s.owner)+len(s.composed))
	for id, inst := range s.owner {
		flows[id] = inst
	}
	if national != "" {
		for _, id := range s.composed {
			flows[id] = national
		}
	}
	services = make(map[string]string, len(s.services))
	for id, inst := range s.services {
		services[id] = inst
	}
	return flows, services
}

// Package returns the loaded package of an institution, or nil.
func (s *Set) Package(id string) *Package {
	for _, p := range s.Packages {
		if p.ID() == id {
			return p
		}
	}
	return nil
}

// Prefix is the start of the environment variables an institution's
// services may read: TRANSITO_ for transito, VENTANILLA_ for the national
// package.
func Prefix(m *Manifest) string {
	if m.National {
		return "VENTANILLA_"
	}
	return strings.ToUpper(strings.ReplaceAll(m.ID, "-", "_")) + "_"
}

// Compose checks packages together and builds the set. Problems name the
// files at fault (both of them for a clash); with any error the set is
// still returned, for the lint to go on, but must not be served.
func Compose(pkgs []*Package, opts Options) (*Set, flows.Problems) {
	if opts.Root == "" {
		opts.Root = "inicio"
	}
	if opts.Keyword == nil {
		opts.Keyword = func(w string) string { return strings.ToUpper(strings.TrimSpace(w)) }
	}
	c := &composer{opts: opts, set: &Set{
		Keywords: map[string]string{}, Routes: map[string]string{}, owner: map[string]string{}, entrances: map[string][]*Listed{}, unloaded: map[string]bool{}, unread: map[string]bool{},
	}}
	c.packages(pkgs)
	c.flows()
	c.services()
	c.callbacks()
	c.templates()
	c.categoriesAndEntries()
	c.set.services = c.serviceOf
	c.set.Sources = append(c.set.Sources, c.menu()...)
	c.list.Sort()
	return c.set, c.list
}

type composer struct {
	opts Options
	set  *Set
	list flows.Problems

	facts      map[*Package][]*flowFacts
	flowFile   map[string]*flowFacts // flow id → where declared
	serviceOf  map[string]string     // service id → institution
	serviceAt  map[string]string     // service id → file
	shared     map[string][]string   // service id → institutions it is shared with
	categories map[string]*Category
	catFile    map[string]string
}

func (c *composer) errorf(file string, p flows.Pos, path, code, format string, args ...any) {
	c.list = append(c.list, flows.Problem{File: file, Pos: p, Path: path, Code: code, Severity: flows.Error, Message: fmt.Sprintf(format, args...)})
}

func (c *composer) packages(pkgs []*Package) {
	seen := map[string]*Package{}
	var national *Package
	for _, p := range pkgs {
		m := p.Manifest
		if m.ID == c.opts.Root {
			c.errorf(m.File, m.Pos["institution"], "institution", "bad-id", "institution id %q is the national menu's own id; choose another", m.ID)
			continue
		}
		if prev, dup := seen[m.ID]; dup {
			c.errorf(m.File, m.Pos["institution"], "institution", "duplicate-id", "institution %q is also the package %s (%s)", m.ID, prev.Dir, prev.Manifest.File)
			continue
		}
		if m.National {
			if national != nil {
				c.errorf(m.File, m.Pos["national"], "national", "duplicate-id", "only one package is national; %s is too", national.Manifest.File)
				continue
			}
			national = p
		}
		seen[m.ID] = p
		c.set.Packages = append(c.set.Packages, p)
	}
	// The national package first: its declarations (categories) stand and
	// a clash is reported in the other package's file.
	sort.Slice(c.set.Packages, func(i, j int) bool {
		a, b := c.set.Packages[i].Manifest, c.set.Packages[j].Manifest
		if a.National != b.National {
			return a.National
		}
		return a.ID < b.ID
	})
}

// flows checks that each flow id is its institution's and claimed once.
func (c *composer) flows() {
	c.facts = map[*Package][]*flowFacts{}
	c.flowFile = map[string]*flowFacts{}
	for _, p := range c.set.Packages {
		m := p.Manifest
		facts := p.scan().flows
		for i, src := range p.Flows {
			f := facts[i]
			c.facts[p] = append(c.facts[p], f)
			c.set.Sources = append(c.set.Sources, src)
			if !m.National && f.inst != "" && f.inst != m.ID {
				// The metrics, indicators and callbacks know a package's
				// flows by its id; a name here would say another.
				c.list = append(c.list, flows.Problem{File: f.file, Pos: f.instPos, Path: "institution", Code: "wrong-institution", Severity: flows.Warning,
					Message: fmt.Sprintf("institution %q: the flows of a package are its institution's (did you mean %q?)", f.inst, m.ID)})
			}
			if f.id == "" {
				continue // the flows lint says what is missing
			}
			if !m.National && f.id != m.ID && !strings.HasPrefix(f.id, m.ID+"-") {
				c.errorf(f.file, f.idPos, "id", "not-namespaced", "flow id %q: the flows of institution %q are called %q or start with %q", f.id, m.ID, m.ID, m.ID+"-")
			}
			if f.id == c.opts.Root || strings.HasPrefix(f.id, c.opts.Root+"--") {
				c.errorf(f.file, f.idPos, "id", "bad-id", "flow id %q is the national menu's; choose another", f.id)
				continue
			}
			if prev, dup := c.flowFile[f.id]; dup && c.set.owner[f.id] != m.ID {
				c.errorf(f.file, f.idPos, "id", "duplicate-id", "flow %q is also declared by institution %q in %s", f.id, c.set.owner[f.id], prev.file)
				continue
			}
			if _, dup := c.flowFile[f.id]; !dup {
				c.flowFile[f.id] = f
				c.set.owner[f.id] = m.ID
			}
		}
	}
}

// callbacks reads each callback's secret: under the institution's
// prefix, set, and long enough.
func (c *composer) callbacks() {
	c.set.callbacks = map[string]callbacks.Endpoint{}
	for _, p := range c.set.Packages {
		m := p.Manifest
		cb := m.Callback
		if cb == nil || cb.URL == "" || cb.SecretEnv == "" {
			continue
		}
		at, path := cb.Pos["secret_env"], "callback.secret_env"
		prefix := Prefix(m)
		if !strings.HasPrefix(cb.SecretEnv, prefix) {
			c.errorf(m.File, at, path, "secret-prefix", "%s: the secrets of institution %q are environment variables starting with %s", cb.SecretEnv, m.ID, prefix)
			continue
		}
		if c.opts.Secrets == nil {
			continue
		}
		secret, ok := c.opts.Secrets(cb.SecretEnv)
		switch {
		case !ok || secret == "":
			c.errorf(m.File, at, path, "unset-secret", "%s is not set: the callback's signing secret (at least %d bytes) comes from it", cb.SecretEnv, callbacks.MinSecret)
			continue
		case len(secret) < callbacks.MinSecret:
			c.errorf(m.File, at, path, "weak-secret", "%s has %d bytes; a signing secret needs at least %d (openssl rand -hex 32 makes one)", cb.SecretEnv, len(secret), callbacks.MinSecret)
			continue
		}
		c.set.callbacks[m.ID] = callbacks.Endpoint{URL: cb.URL, Secret: callbacks.Secret(secret)}
	}
}

// unloaded notes the services a package's services file declares when
// the file does not load, so that its errors are not repeated at every
// call of them as a service nobody declared.
// A file that is not YAML declares nothing anyone can read: every service
// of its institution's namespace counts as declared there.
func (c *composer) unloaded(p *Package) {
	keys := p.scan().services
	for id := range keys {
		c.set.unloaded[id] = true
	}
	if len(keys) == 0 {
		c.set.unread[p.Manifest.ID] = true
	}
}

// Unloaded reports whether a service is declared in a services file that
// did not load (its errors are reported there).
func (s *Set) Unloaded(service string) bool {
	inst, _, namespaced := strings.Cut(service, ".")
	return s.unloaded[service] || namespaced && s.unread[inst]
}

// services checks each package's services: their secrets, their ids, who
// may call them.
func (c *composer) services() {
	c.serviceOf, c.serviceAt, c.shared = map[string]string{}, map[string]string{}, map[string][]string{}
	for _, p := range c.set.Packages {
		m := p.Manifest
		if p.Services == nil {
			continue
		}
		prefix := Prefix(m)
		outside := false
		for _, r := range p.scan().envRefs {
			if !strings.HasPrefix(r.id, prefix) {
				outside = true
				c.errorf(p.Services.Name, r.pos, "", "secret-prefix", "${%s}: the secrets of institution %q are environment variables starting with %s", r.id, m.ID, prefix)
			}
		}
		if outside {
			c.unloaded(p)
			continue
		}
		getenv := c.opts.Getenv
		if getenv == nil {
			getenv = func(string) (string, bool) { return "", false }
		}
		if c.opts.Services != nil {
			ps := c.opts.Services(*p.Services, getenv)
			c.list = append(c.list, ps...)
			if ps.HasErrors() {
				c.unloaded(p)
				continue
			}
		}
		keys := p.scan().services
		for _, id := range sortedKeys(keys) {
			if !m.National && !strings.HasPrefix(id, m.ID+".") {
				c.errorf(p.Services.Name, keys[id], "services."+id, "not-namespaced", "service id %q: the services of institution %q start with %q", id, m.ID, m.ID+".")
			}
			if prev, dup := c.serviceAt[id]; dup {
				c.errorf(p.Services.Name, keys[id], "services."+id, "duplicate-id", "service %q is also declared by institution %q in %s", id, c.serviceOf[id], prev)
				continue
			}
			c.serviceOf[id], c.serviceAt[id] = m.ID, p.Services.Name
		}
	}
	// Shares, granted by the owner only.
	for _, p := range c.set.Packages {
		m := p.Manifest
		var own []string
		for id, inst := range c.serviceOf {
			if inst == m.ID {
				own = append(own, id)
			}
		}
		sort.Strings(own)
		for _, s := range m.Shares {
			if c.serviceOf[s.Service] != m.ID {
				c.errorf(m.File, s.Pos, "shares."+s.Service, "unknown-service", "%q is not a service of institution %q, which shares only its own%s", s.Service, m.ID, didYouMean(s.Service, own))
				continue
			}
			c.shared[s.Service] = append(c.shared[s.Service], s.With...)
		}
	}
	// Calls and gotos stay within the institution, save shared services.
	for _, p := range c.set.Packages {
		id := p.ID()
		for _, f := range c.facts[p] {
			for _, r := range f.services {
				owner, ok := c.serviceOf[r.id]
				if !ok || owner == id || slices.Contains(c.shared[r.id], id) {
					continue // an unknown service is the flows lint's to report
				}
				c.errorf(f.file, r.pos, r.path, "not-shared", "service %q belongs to institution %q (%s), which does not share it with %q; the owner grants it under shares: in its manifest", r.id, owner, c.serviceAt[r.id], id)
			}
			for _, r := range f.gotos {
				if owner, ok := c.set.owner[r.id]; ok && owner != id {
					c.errorf(f.file, r.pos, r.path, "not-own-flow", "flow %q belongs to institution %q (%s); a flow goes only to its own institution's flows", r.id, owner, c.flowFile[r.id].file)
				}
			}
		}
	}
}

// templates checks that each package's notification template ids start
// with the institution's id and "_" (template ids have no dots; no
// institution id has "_", so the prefix is unambiguous); the gateway
// parses the templates themselves.
func (c *composer) templates() {
	for _, p := range c.set.Packages {
		m := p.Manifest
		if p.Templates == nil || m.National {
			continue
		}
		keys := p.scan().templates
		for _, id := range sortedKeys(keys) {
			if !strings.HasPrefix(id, m.ID+"_") {
				c.errorf(p.Templates.Name, keys[id], "templates."+id, "not-namespaced", "template id %q: the templates of institution %q start with %q", id, m.ID, m.ID+"_")
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *composer) categoriesAndEntries() {
	c.categories, c.catFile = map[string]*Category{}, map[string]string{}
	for _, p := range c.set.Packages {
		for _, cat := range p.Manifest.Categories {
			if prev, dup := c.catFile[cat.ID]; dup {
				c.errorf(p.Manifest.File, cat.Pos, "categories."+cat.ID, "duplicate-id", "category %q is already declared in %s; use it without declaring it", cat.ID, prev)
				continue
			}
			c.categories[cat.ID], c.catFile[cat.ID] = cat, p.Manifest.File
		}
	}
	var catIDs []string
	for id := range c.categories {
		catIDs = append(catIDs, id)
	}
	sort.Strings(catIDs)
	keywordAt := map[string]string{}
	codeAt := map[string]string{}
	for _, p := range c.set.Packages {
		m := p.Manifest
		var own []string
		unread := false // a flow file that is not YAML, or without an id
		for _, f := range c.facts[p] {
			if f.id != "" {
				own = append(own, f.id)
			} else {
				unread = true
			}
		}
		for _, e := range m.Entries {
			path := "entries." + e.ID
			l := &Listed{Entry: e, Institution: m, Opens: e.Flow}
			cat, ok := c.categories[e.Category]
			if !ok {
				c.errorf(m.File, e.FieldPos["category"], path+".category", "unknown-category", "unknown category %q%s; the categories are %s", e.Category, didYouMean(e.Category, catIDs), strings.Join(catIDs, ", "))
				continue
			}
			l.Category = cat
			f := c.flowFile[e.Flow]
			if f == nil && unread {
				continue // it may be that file, whose own error says why
			}
			if f == nil || c.set.owner[e.Flow] != m.ID {
				where := fmt.Sprintf("%s/%s/", p.Dir, FlowsDir)
				if f != nil {
					where = fmt.Sprintf("%s, of institution %q", f.file, c.set.owner[e.Flow])
				}
				c.errorf(m.File, e.FieldPos["flow"], path+".flow", "unknown-flow", "entry %q opens flow %q, which is not among the flows of %s (%s)%s", e.ID, e.Flow, m.ID, where, didYouMean(e.Flow, own))
				continue
			}
			if !e.LevelSet {
				e.Level = f.level
			} else if e.Level < f.level {
				c.errorf(m.File, e.FieldPos["level"], path+".level", "level", "entry %q says level %d, but its flow %s asks for level %d", e.ID, e.Level, f.file, f.level)
			}
			if l.Draft() {
				l.Opens = c.opts.Root + "--" + e.Flow
				if len(m.Testers.Phones)+len(m.Testers.Telegram) == 0 {
					c.errorf(m.File, e.Pos, path, "no-testers", "entry %q is a draft, but the manifest lists no testers: nobody could see it", e.ID)
				}
			}
			for _, w := range e.Keywords {
				word := c.opts.Keyword(w)
				if how, own := c.opts.GatewayKeywords[word]; own {
					c.errorf(m.File, e.FieldPos["keywords"], path+".keywords", "keyword-clash", "keyword %s is the gateway's own (%s); choose another", word, how)
					continue
				}
				if prev, dup := keywordAt[word]; dup {
					c.errorf(m.File, e.FieldPos["keywords"], path+".keywords", "keyword-clash", "keyword %s is also claimed by %s", word, prev)
					continue
				}
				keywordAt[word] = fmt.Sprintf("%s (entry %s/%s)", m.File, m.ID, e.ID)
				c.set.Keywords[word] = l.Opens
			}
			if e.ShortCode != "" {
				if flow, own := c.opts.GatewayRoutes[e.ShortCode]; own {
					c.errorf(m.File, e.FieldPos["short_code"], path+".short_code", "short-code-clash", "short code %s is routed by the gateway to %s (--routes)", e.ShortCode, flow)
				} else if other, flow, ok := nested(e.ShortCode, c.opts.GatewayRoutes); ok {
					if len(other) < len(e.ShortCode) {
						c.errorf(m.File, e.FieldPos["short_code"], path+".short_code", "short-code-clash", "short code %s starts with %s, which the gateway routes to %s (--routes)", e.ShortCode, other, flow)
					} else {
						c.errorf(m.File, e.FieldPos["short_code"], path+".short_code", "short-code-clash", "short code %s is the start of %s, which the gateway routes to %s (--routes)", e.ShortCode, other, flow)
					}
				} else if prev, dup := codeAt[e.ShortCode]; dup {
					c.errorf(m.File, e.FieldPos["short_code"], path+".short_code", "short-code-clash", "short code %s is also claimed by %s", e.ShortCode, prev)
				} else if other, prev, ok := nested(e.ShortCode, codeAt); ok {
					// The longer code's dials would be answers to the shorter's
					// entry, or the other way round, as packages come and go.
					if len(other) < len(e.ShortCode) {
						c.errorf(m.File, e.FieldPos["short_code"], path+".short_code", "short-code-clash", "short code %s starts with %s, claimed by %s", e.ShortCode, other, prev)
					} else {
						c.errorf(m.File, e.FieldPos["short_code"], path+".short_code", "short-code-clash", "short code %s is the start of %s, claimed by %s", e.ShortCode, other, prev)
					}
				} else {
					codeAt[e.ShortCode] = fmt.Sprintf("%s (entry %s/%s)", m.File, m.ID, e.ID)
					c.set.Routes[e.ShortCode] = l.Opens
				}
			}
			c.set.entrances[l.Opens] = append(c.set.entrances[l.Opens], l)
			l.Languages = languages(e.Title)
			c.set.Entries = append(c.set.Entries, l)
		}
	}
	sort.SliceStable(c.set.Entries, func(i, j int) bool {
		a, b := c.set.Entries[i], c.set.Entries[j]
		if a.Category != b.Category {
			if a.Category.Order != b.Category.Order {
				return a.Category.Order < b.Category.Order
			}
			return a.Category.ID < b.Category.ID
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		if a.Institution.ID != b.Institution.ID {
			return a.Institution.ID < b.Institution.ID
		}
		return a.ID < b.ID
	})
}

// nested finds a claimed short code that code starts, or that starts
// code (*384*7# and *384*7*1#), with who claims it.
func nested(code string, claimed map[string]string) (string, string, bool) {
	stem := strings.TrimSuffix(code, "#")
	for _, other := range sortedKeys(claimed) {
		o := strings.TrimSuffix(other, "#")
		if strings.HasPrefix(stem, o+"*") || strings.HasPrefix(o, stem+"*") {
			return other, claimed[other], true
		}
	}
	return "", "", false
}

func languages(t Text) []string {
	var out []string
	for _, loc := range Locales {
		if t[loc] != "" {
			out = append(out, loc)
		}
	}
	return out
}
