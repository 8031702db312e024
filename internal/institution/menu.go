package institution

import (
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/flows"
)

// Composed flows are named "(composed)/ID.yaml" in problems.
const composedDir = "(composed)/"

// Composed reports whether a problem's file is a composed flow.
func Composed(file string) bool { return strings.HasPrefix(file, composedDir) }

// The national menu's own texts.
var (
	welcomeText  = Text{"es": "Bienvenido a Ventanilla. Elija su idioma:", "en": "Welcome to Ventanilla. Choose your language:", "qu": "Ventanillaman alli shamushka. Shimita akllay:"}
	servicesText = Text{"es": "Ventanilla ciudadana", "en": "Citizen services", "qu": "Llaktayuk ventanilla"}
	languageText = Text{"es": "Idioma / Language", "en": "Idioma / Language", "qu": "Shimi / Idioma"}
	moreText     = Text{"es": "Más servicios", "en": "More services", "qu": "Ashtawan"}
	languages3   = []struct{ loc, label string }{{"es", "Español"}, {"en", "English"}, {"qu", "Runa shimi"}}
)

// perMenu is the most options one composed menu holds before the rest
// moves to a "more" option; the channel pages a menu further by its own
// screen size (182 characters on USSD, segments in SMS, buttons in chat).
const perMenu = flows.MaxOptions - 1

// menu composes the national menu: the language choice on first contact,
// then the categories in order, each category holding one entry shown as
// that entry, then the choice of language again. It also writes, for each
// draft entry, the gate that keywords and short codes open: testers go
// on to the entry's flow, anyone else gets the national menu, as for a
// word nobody claimed. The ids of the flows it writes go to the set's
// composed.
func (c *composer) menu() []flows.Source {
	root := c.opts.Root
	steps := newMap()
	steps.set("welcome", obj(
		"kind", "branch",
		"cases", []any{obj("when", "language_chosen == true", "next", "services")},
		"default", "language"))
	var langOpts []any
	for _, l := range languages3 {
		langOpts = append(langOpts, obj("label", obj("es", l.label, "en", l.label, "qu", l.label), "next", "set_"+l.loc))
	}
	steps.set("language", obj("kind", "menu", "text", text(welcomeText), "options", langOpts))
	for _, l := range languages3 {
		steps.set("set_"+l.loc, obj("kind", "set", "vars", obj("locale", strconv.Quote(l.loc)), "next", "services"))
	}

	// Group the entries by category, in menu order.
	type group struct {
		cat     *Category
		entries []*Listed
	}
	var groups []*group
	for _, e := range c.set.Entries {
		if n := len(groups); n == 0 || groups[n-1].cat != e.Category {
			groups = append(groups, &group{cat: e.Category})
		}
		g := groups[len(groups)-1]
		g.entries = append(g.entries, e)
	}
	goStep := func(e *Listed) string {
		id := "go-" + e.Institution.ID + "-" + e.ID
		if !steps.has(id) {
			steps.set(id, obj("kind", "goto", "flow", e.Entry.Flow))
		}
		return id
	}
	var rootOpts []any
	for _, g := range groups {
		if len(g.entries) == 1 {
			e := g.entries[0]
			rootOpts = append(rootOpts, option(e.Title, goStep(e), c.when(e)))
			continue
		}
		var opts []any
		var conds, drafts []string
		var public []*Listed
		for _, e := range g.entries {
			w := c.when(e)
			opts = append(opts, option(e.Title, goStep(e), w))
			conds = append(conds, w)
			if e.Draft() {
				drafts = append(drafts, testersCond(e.Institution))
			} else {
				public = append(public, e)
			}
		}
		step := "cat-" + g.cat.ID
		paged(steps, step, g.cat.Title, opts)
		if len(public) > 1 || len(drafts) == 0 {
			rootOpts = append(rootOpts, option(g.cat.Title, step, any_(conds)))
			continue
		}
		// Drafts alone make this a category: testers see it; anyone else
		// sees what they would without the drafts, the one public entry.
		seen := any_(drafts)
		rootOpts = append(rootOpts, option(g.cat.Title, step, seen))
		if len(public) == 1 {
			e := public[0]
			rootOpts = append(rootOpts, option(e.Title, goStep(e), all(c.when(e), "!"+seen)))
		}
	}
	rootOpts = append(rootOpts, option(languageText, "language", ""))
	paged(steps, "services", servicesText, rootOpts)

	body := obj(
		"spec_version", flows.SpecVersion,
		"id", root,
		"version", 1,
		"institution", "Ventanilla",
		"title", obj("es", "Inicio", "en", "Home", "qu", "Kallari"),
		"locales", []any{"es", "en", "qu"},
		"start", "welcome",
		"steps", steps.node())
	out := []flows.Source{versioned(composedDir+root+".yaml", body)}
	c.set.composed = append(c.set.composed, root)

	// Gates of draft entries.
	for _, e := range c.set.Entries {
		if !e.Draft() {
			continue
		}
		gate := obj(
			"spec_version", flows.SpecVersion,
			"id", e.Opens,
			"version", 1,
			"institution", e.Institution.ID,
			"title", text(e.Title),
			"locales", []any{"es", "en", "qu"},
			"start", "gate",
			"steps", obj(
				"gate", obj("kind", "branch", "cases", []any{obj("when", testersCond(e.Institution), "next", "open")}, "default", "menu"),
				"open", obj("kind", "goto", "flow", e.Entry.Flow),
				"menu", obj("kind", "goto", "flow", root)))
		out = append(out, versioned(composedDir+e.Opens+".yaml", gate))
		c.set.composed = append(c.set.composed, e.Opens)
	}
	return out
}

// versioned writes a composed flow with a version derived from its text,
// so that a reload that changes the menu starts a new version and
// conversations in flight finish on the one they saw.
func versioned(name string, body *yaml.Node) flows.Source {
	data, err := yaml.Marshal(body)
	if err != nil {
		panic(fmt.Sprintf("institution: composing %s: %v", name, err))
	}
	v := int(crc32.ChecksumIEEE(data)&0x3fffffff) + 1
	setVersion(body, v)
	data, _ = yaml.Marshal(body)
	return flows.Source{Name: name, Data: data}
}

func setVersion(body *yaml.Node, v int) {
	for i := 0; i+1 < len(body.Content); i += 2 {
		if body.Content[i].Value == "version" {
			body.Content[i+1].Value = strconv.Itoa(v)
		}
	}
}

// paged writes a menu step, moving options past perMenu to a "more"
// option that opens the next part.
func paged(steps *mapNode, id string, title Text, opts []any) {
	for part := 0; ; part++ {
		name := id
		if part > 0 {
			name = fmt.Sprintf("%s-%d", id, part+1)
		}
		if len(opts) <= perMenu+1 {
			steps.set(name, obj("kind", "menu", "text", text(title), "options", opts))
			return
		}
		next := fmt.Sprintf("%s-%d", id, part+2)
		head := append(append([]any{}, opts[:perMenu]...), option(moreText, next, ""))
		steps.set(name, obj("kind", "menu", "text", text(title), "options", head))
		opts = opts[perMenu:]
	}
}

// when is the condition under which an entry is shown: on its channels,
// and for a draft, to its testers.
func (c *composer) when(e *Listed) string {
	var parts []string
	if len(e.Channels) < len(Channels) {
		var on []string
		for _, ch := range e.Channels {
			switch ch {
			case "ussd", "sms":
				on = append(on, fmt.Sprintf("channel == %q", ch))
			default:
				on = append(on, fmt.Sprintf("carrier == %q", ch))
			}
		}
		parts = append(parts, "("+strings.Join(on, " || ")+")")
	}
	if e.Draft() {
		parts = append(parts, "("+testersCond(e.Institution)+")")
	}
	return strings.Join(parts, " && ")
}

// testersCond is true for the manifest's testers: their numbers on any
// channel, their Telegram chats.
func testersCond(m *Manifest) string {
	var parts []string
	if len(m.Testers.Phones) > 0 {
		parts = append(parts, "phone in "+quoteList(m.Testers.Phones))
	}
	if len(m.Testers.Telegram) > 0 {
		parts = append(parts, `carrier == "telegram" && chat in `+quoteList(m.Testers.Telegram))
	}
	if len(parts) == 0 {
		return "false"
	}
	return strings.Join(parts, " || ")
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// any_ is the condition that holds when one of conds does ("" holds always).
func any_(conds []string) string {
	for _, c := range conds {
		if c == "" {
			return ""
		}
	}
	return "(" + strings.Join(conds, ") || (") + ")"
}

// all is the condition that holds when every one of conds does.
func all(conds ...string) string {
	var parts []string
	for _, c := range conds {
		if c != "" {
			parts = append(parts, "("+c+")")
		}
	}
	return strings.Join(parts, " && ")
}

func option(label Text, next, when string) any {
	o := obj("label", text(label), "next", next)
	if when != "" {
		o = obj("label", text(label), "when", when, "next", next)
	}
	return o
}

// text writes a Text with every locale, falling back to es, quoted as
// authors write texts.
func text(t Text) *yaml.Node {
	n := obj()
	for _, loc := range Locales {
		add(n, loc, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t.In(loc), Style: yaml.DoubleQuotedStyle})
	}
	return n
}

// obj builds a YAML mapping from key, value pairs, in order.
func obj(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		add(n, kv[i].(string), kv[i+1])
	}
	return n
}

func add(n *yaml.Node, key string, v any) {
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, value(v))
}

func value(v any) *yaml.Node {
	switch x := v.(type) {
	case *yaml.Node:
		return x
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(x)}
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range x {
			n.Content = append(n.Content, value(e))
		}
		return n
	}
	panic(fmt.Sprintf("institution: no YAML for %T", v))
}

// mapNode is a mapping built key by key, in order.
type mapNode struct {
	n    *yaml.Node
	keys map[string]bool
}

func newMap() *mapNode { return &mapNode{n: obj(), keys: map[string]bool{}} }

func (m *mapNode) set(k string, v *yaml.Node) { m.keys[k] = true; add(m.n, k, v) }
func (m *mapNode) has(k string) bool          { return m.keys[k] }
func (m *mapNode) node() *yaml.Node           { return m.n }
