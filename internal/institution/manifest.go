package institution

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/diag"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// ManifestFile is the name of the manifest in a package folder.
const ManifestFile = "institution.yaml"

// Locales a title or a name may be written in; DefaultLocale is required.
var Locales = []string{"es", "en", "qu"}

// DefaultLocale is what a citizen reads where a text lacks their locale.
const DefaultLocale = "es"

// Channels an entry may be offered on.
var Channels = []string{"ussd", "sms", "whatsapp", "telegram"}

// Bounds of a manifest.
const (
	MaxEntries    = 100
	MaxCategories = 50
	MaxKeywords   = 10
	MaxTesters    = 100
	maxTextLen    = 300
)

// Manifest is an institution's manifest as loaded.
type Manifest struct {
	File       string
	ID         string
	Name       Text
	Contact    Contact
	National   bool
	Draft      bool
	Testers    Testers
	Categories []*Category
	Entries    []*Entry
	Shares     []*Share
	Callback   *Callback            // nil: the institution polls
	Pos        map[string]flows.Pos // where each top-level field was written
}

// Callback is where an institution hears back about its notifications,
// as the manifest writes it: the secret is named, never written.
type Callback struct {
	URL       string
	SecretEnv string
	Pos       map[string]flows.Pos // of url and secret_env
}

// Text is a text per locale.
type Text map[string]string

// In returns the text in loc, else in DefaultLocale.
func (t Text) In(loc string) string {
	if s, ok := t[loc]; ok && s != "" {
		return s
	}
	return t[DefaultLocale]
}

// Contact is who answers for the institution's trámites.
type Contact struct {
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Testers are the phone numbers and Telegram chats that see drafts.
type Testers struct {
	Phones   []string
	Telegram []string
}

// Category groups entries in the national menu.
type Category struct {
	ID    string
	Title Text
	Order int
	Pos   flows.Pos
}

// Entry is one trámite the institution offers in the national catalogue.
type Entry struct {
	ID          string
	Title       Text
	Category    string
	Description Text
	Keywords    []string
	ShortCode   string
	Channels    []string
	Level       int
	LevelSet    bool
	Flow        string
	Draft       bool
	Order       int
	Pos         flows.Pos
	FieldPos    map[string]flows.Pos
}

// Share makes one of the institution's services callable by others.
type Share struct {
	Service string
	With    []string
	Pos     flows.Pos
}

// Field describes one field of the manifest. This one description drives
// the decoder (which fields exist, which are required) and the reference
// in docs/institutions.md.
type Field struct {
	Name     string
	Type     string
	Required bool
	Doc      string
	Fields   []Field // of each item of a mapping or list
}

// ManifestFields describes the manifest.
var ManifestFields = []Field{
	{Name: "institution", Type: "id", Required: true, Doc: "The institution's id: lower-case letters, digits and dashes, starting with a letter (`transito`, `registro-civil`). Its flow ids are this id or start with `id-`; its service ids start with `id.` and its notification template ids with `id_`; its secrets are environment variables starting with the id in capitals and `_` (`TRANSITO_`)."},
	{Name: "name", Type: "text", Required: true, Doc: "The institution's name per locale: `{es: …, en: …, qu: …}`; `es` is required."},
	{Name: "contact", Type: "mapping", Required: true, Doc: "Who answers for the institution's trámites; at least one of the fields.", Fields: []Field{
		{Name: "email", Type: "string", Doc: "An e-mail address."},
		{Name: "phone", Type: "string", Doc: "A phone number."},
		{Name: "url", Type: "string", Doc: "A web page (https://…)."},
	}},
	{Name: "national", Type: "boolean", Doc: "The national window's own package (the shipped catalogue): its ids keep the names they had before packages and need no prefix. At most one loaded package is national."},
	{Name: "draft", Type: "boolean", Doc: "The whole package is a draft: its entries are shown only to the testers."},
	{Name: "testers", Type: "mapping", Doc: "Who sees draft entries, on every channel.", Fields: []Field{
		{Name: "phones", Type: "list of strings", Doc: "Phone numbers in E.164 (`+593991234567`): USSD, SMS, WhatsApp, and Telegram chats linked to the number."},
		{Name: "telegram", Type: "list of strings", Doc: "Telegram chat ids (digits, as the bot reports them)."},
	}},
	{Name: "categories", Type: "mapping", Doc: "Categories of the national menu this package declares, by id. A category is declared once among all packages; entries of any package may use it.", Fields: []Field{
		{Name: "title", Type: "text", Required: true, Doc: "The category's title per locale."},
		{Name: "order", Type: "integer", Doc: "Place in the menu: lower first (default 100); ties by id."},
	}},
	{Name: "entries", Type: "mapping", Required: true, Doc: "The trámites the institution offers, by id (unique within the institution; the catalogue names them `institution/entry`).", Fields: []Field{
		{Name: "title", Type: "text", Required: true, Doc: "The entry's title per locale, as the menu shows it."},
		{Name: "category", Type: "id", Required: true, Doc: "The category it is listed under: one declared by a loaded package."},
		{Name: "flow", Type: "flow id", Required: true, Doc: "The flow it opens: one of this package's flows."},
		{Name: "description", Type: "text", Doc: "One or two sentences per locale, for the catalogue (not shown on USSD)."},
		{Name: "keywords", Type: "list of strings", Doc: "Words that open the entry by SMS and chat (`MULTA`); compared in capitals without accents. No two packages may claim one."},
		{Name: "short_code", Type: "string", Doc: "A USSD code that opens the entry directly: the gateway's code and at least one number more, such as `*384*7#`. No two packages may claim one, nor one that starts another (`*384*7#` and `*384*7*1#`: the longer one's dials would answer the shorter one's entry)."},
		{Name: "channels", Type: "list", Doc: "Where it is offered: `ussd`, `sms`, `whatsapp`, `telegram` (default: all)."},
		{Name: "level", Type: "integer", Doc: "The level of assurance it needs: 0 anonymous, 1 the citizen's number, 2 a PIN. Default: the flow's level; never lower than it."},
		{Name: "draft", Type: "boolean", Doc: "Shown only to the testers, on every channel, until the draft mark is removed."},
		{Name: "order", Type: "integer", Doc: "Place within its category: lower first (default 100); ties by institution and id."},
	}},
	{Name: "shares", Type: "mapping", Doc: "Services of this institution that flows of other institutions may call: `service id: [institution, …]` (X-Road's model: the owner grants)."},
	{Name: "callback", Type: "mapping", Doc: "Where the institution hears back about its notifications: delivery receipts and citizens' replies are POSTed there as JSON, signed with HMAC-SHA256 and retried until answered 2xx (see docs/notifications.md, Callbacks). Without it, the institution polls `GET /v1/notifications/{id}`.", Fields: []Field{
		{Name: "url", Type: "string", Required: true, Doc: "The endpoint: `https://…`. Plain `http://` only to a loopback host (`localhost`, `127.0.0.1`, `::1`): a test, or a proxy beside the gateway that adds TLS. No user, password or fragment in it."},
		{Name: "secret_env", Type: "string", Required: true, Doc: "The environment variable holding the signing secret (at least 32 bytes), under the institution's prefix (`TRANSITO_CALLBACK_SECRET`). The secret is never written in the package; an unset or shorter one stops the start (the lint, which runs without the gateway's environment, checks only the name)."},
	}},
}

var (
	idPattern        = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)
	entryPattern     = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)
	shortCodePattern = regexp.MustCompile(`^\*[0-9]{1,6}(\*[0-9]{1,4}){0,4}#$`)
	phonePattern     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	chatPattern      = regexp.MustCompile(`^-?[0-9]{1,20}$`)
)

// parseManifest decodes a manifest strictly: unknown fields, wrong types
// and bad values are problems with file:line:col and, where a name was
// misspelt, the closest known one.
func parseManifest(name string, data []byte) (*Manifest, flows.Problems) {
	d := &decoder{file: name}
	m := &Manifest{File: name, Pos: map[string]flows.Pos{}}
	if len(data) > flows.MaxFileSize {
		d.errorf(flows.Pos{Line: 1, Col: 1}, "", "too-large", "manifest is %d bytes; the limit is %d", len(data), flows.MaxFileSize)
		return nil, d.list
	}
	root, bad := diag.Parse(name, data)
	if bad != nil {
		d.errorf(flows.Pos{Line: max(bad.Pos.Line, 1), Col: max(bad.Pos.Col, 1)}, "", "yaml", "%s", bad.Message)
		return nil, d.list
	}
	if root == nil {
		d.errorf(flows.Pos{Line: 1, Col: 1}, "", "yaml", "the manifest is empty; it needs %s", requiredNames(ManifestFields))
		return nil, d.list
	}
	if !d.plain(root, 0) {
		return nil, d.list
	}
	d.fields(root, "", ManifestFields, func(key string, k, v *yaml.Node) {
		m.Pos[key] = pos(k)
		switch key {
		case "institution":
			m.ID = d.str(v, key)
			if m.ID != "" && !idPattern.MatchString(m.ID) {
				d.errorf(pos(v), key, "bad-id", "institution id %q: lower-case letters, digits and dashes, starting with a letter, at most 40", m.ID)
			}
		case "name":
			m.Name = d.text(v, key)
		case "contact":
			d.fields(v, key, sub("contact"), func(ck string, _, cv *yaml.Node) {
				s := d.str(cv, join(key, ck))
				switch ck {
				case "email":
					m.Contact.Email = s
					if s != "" && !strings.Contains(s, "@") {
						d.errorf(pos(cv), join(key, ck), "wrong-type", "%q is not an e-mail address", s)
					}
				case "phone":
					m.Contact.Phone = s
				case "url":
					m.Contact.URL = s
					if s != "" && !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
						d.errorf(pos(cv), join(key, ck), "wrong-type", "%q is not a web address (https://…)", s)
					}
				}
			})
			if m.Contact == (Contact{}) && v.Kind == yaml.MappingNode {
				d.errorf(pos(v), key, "missing-field", "the contact needs at least one of email, phone, url")
			}
		case "national":
			m.National = d.bool(v, key)
		case "draft":
			m.Draft = d.bool(v, key)
		case "testers":
			d.fields(v, key, sub("testers"), func(tk string, _, tv *yaml.Node) {
				list := d.strList(tv, join(key, tk), MaxTesters)
				for i, s := range list {
					p := fmt.Sprintf("%s.%s[%d]", key, tk, i)
					switch {
					case tk == "phones" && !phonePattern.MatchString(s):
						d.errorf(pos(tv.Content[i]), p, "wrong-type", "%q is not a number in E.164, like +593991234567", s)
					case tk == "telegram" && !chatPattern.MatchString(s):
						d.errorf(pos(tv.Content[i]), p, "wrong-type", "%q is not a Telegram chat id (digits)", s)
					}
				}
				if tk == "phones" {
					m.Testers.Phones = list
				} else {
					m.Testers.Telegram = list
				}
			})
		case "categories":
			d.mapOf(v, key, MaxCategories, func(id string, ck, cv *yaml.Node) {
				cp := join(key, id)
				if !idPattern.MatchString(id) {
					d.errorf(pos(ck), cp, "bad-id", "category id %q: lower-case letters, digits and dashes", id)
				}
				c := &Category{ID: id, Order: 100, Pos: pos(ck)}
				d.fields(cv, cp, sub("categories"), func(f string, _, fv *yaml.Node) {
					switch f {
					case "title":
						c.Title = d.text(fv, join(cp, f))
					case "order":
						c.Order = d.int(fv, join(cp, f))
					}
				})
				m.Categories = append(m.Categories, c)
			})
		case "entries":
			d.mapOf(v, key, MaxEntries, func(id string, ek, ev *yaml.Node) {
				if e := d.entry(id, ek, ev); e != nil {
					m.Entries = append(m.Entries, e)
				}
			})
		case "shares":
			d.mapOf(v, key, MaxEntries, func(id string, sk, sv *yaml.Node) {
				m.Shares = append(m.Shares, &Share{Service: id, With: d.strList(sv, join(key, id), MaxEntries), Pos: pos(sk)})
			})
		case "callback":
			m.Callback = d.callback(v, key)
		}
	})
	if !idPattern.MatchString(m.ID) {
		// Everything else of a package is named after its id (flows,
		// services, secrets): without one, the manifest's problem is
		// the package's only one.
		return nil, d.list
	}
	return m, d.list
}

var envPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,99}$`)

func (d *decoder) callback(v *yaml.Node, key string) *Callback {
	cb := &Callback{Pos: map[string]flows.Pos{}}
	d.fields(v, key, sub(key), func(f string, _, fv *yaml.Node) {
		fp := join(key, f)
		s := d.str(fv, fp)
		cb.Pos[f] = pos(fv)
		switch f {
		case "url":
			cb.URL = s
			if err := callbacks.CheckURL(s); s != "" && err != nil {
				d.errorf(pos(fv), fp, "bad-url", "%v", err)
			}
		case "secret_env":
			cb.SecretEnv = s
			if s != "" && !envPattern.MatchString(s) {
				d.errorf(pos(fv), fp, "wrong-type", "%q is not the name of an environment variable (capitals, digits and _, such as TRANSITO_CALLBACK_SECRET); the secret itself is never written here", s)
			}
		}
	})
	if v.Kind != yaml.MappingNode {
		return nil
	}
	return cb
}

func (d *decoder) entry(id string, k, v *yaml.Node) *Entry {
	path := join("entries", id)
	if !entryPattern.MatchString(id) {
		d.errorf(pos(k), path, "bad-id", "entry id %q: lower-case letters, digits, _ and -, starting with a letter", id)
	}
	e := &Entry{ID: id, Order: 100, Pos: pos(k), FieldPos: map[string]flows.Pos{}}
	d.fields(v, path, sub("entries"), func(f string, fk, fv *yaml.Node) {
		fp := join(path, f)
		e.FieldPos[f] = pos(fv)
		switch f {
		case "title":
			e.Title = d.text(fv, fp)
		case "category":
			e.Category = d.str(fv, fp)
		case "flow":
			e.Flow = d.str(fv, fp)
		case "description":
			e.Description = d.text(fv, fp)
		case "keywords":
			e.Keywords = d.strList(fv, fp, MaxKeywords)
			for i, w := range e.Keywords {
				if strings.TrimSpace(w) == "" || strings.ContainsAny(w, " \t\n") || len(w) > 20 {
					d.errorf(pos(fv.Content[i]), fmt.Sprintf("%s[%d]", fp, i), "wrong-type", "keyword %q: one word of at most 20 letters", w)
				}
			}
		case "short_code":
			e.ShortCode = d.str(fv, fp)
			switch code := e.ShortCode; {
			case code == "":
			case !shortCodePattern.MatchString(code):
				d.errorf(pos(fv), fp, "wrong-type", "short code %q: a USSD code such as *384*7#", code)
			case !strings.Contains(code[1:], "*"):
				// The gateway takes every dial that starts with a route:
				// a code of one number would take the national menu's.
				base := strings.TrimSuffix(code, "#")
				d.errorf(pos(fv), fp, "wrong-type", "short code %q would take every dial of %s…, the national menu's included; an entry's short code adds a number to the gateway's code, such as %s*7#", code, base, base)
			}
		case "channels":
			e.Channels = d.strList(fv, fp, len(Channels))
			for i, c := range e.Channels {
				if !slices.Contains(Channels, c) {
					d.errorf(pos(fv.Content[i]), fmt.Sprintf("%s[%d]", fp, i), "wrong-type", "unknown channel %q%s; the channels are %s", c, didYouMean(c, Channels), strings.Join(Channels, ", "))
				}
			}
		case "level":
			e.Level, e.LevelSet = d.int(fv, fp), true
			if e.Level < 0 || e.Level > 2 {
				d.errorf(pos(fv), fp, "wrong-type", "level must be 0, 1 or 2")
			}
		case "draft":
			e.Draft = d.bool(fv, fp)
		case "order":
			e.Order = d.int(fv, fp)
		}
	})
	if len(e.Channels) == 0 {
		e.Channels = slices.Clone(Channels)
	}
	// A keyword or short code on no channel that reads it would open
	// nothing, without a word.
	if len(e.Keywords) > 0 && !slices.ContainsFunc(e.Channels, func(c string) bool { return c != "ussd" }) {
		d.errorf(e.FieldPos["keywords"], join(path, "keywords"), "unreachable", "keywords open the entry by SMS and chat, but it is offered only on %s; add a text channel or drop the keywords", strings.Join(e.Channels, ", "))
	}
	if e.ShortCode != "" && !slices.Contains(e.Channels, "ussd") {
		d.errorf(e.FieldPos["short_code"], join(path, "short_code"), "unreachable", "a short code is dialled on USSD, but the entry is offered only on %s; add ussd or drop the short code", strings.Join(e.Channels, ", "))
	}
	return e
}

// decoder walks yaml nodes, collecting problems.
type decoder struct {
	file string
	list flows.Problems
}

func (d *decoder) errorf(p flows.Pos, path, code, format string, args ...any) {
	d.list = append(d.list, flows.Problem{File: d.file, Pos: p, Path: path, Code: code, Severity: flows.Error, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) warnf(p flows.Pos, path, code, format string, args ...any) {
	d.list = append(d.list, flows.Problem{File: d.file, Pos: p, Path: path, Code: code, Severity: flows.Warning, Message: fmt.Sprintf(format, args...)})
}

// sub returns the fields of the manifest field name.
func sub(name string) []Field {
	for _, f := range ManifestFields {
		if f.Name == name {
			return f.Fields
		}
	}
	panic("institution: no manifest field " + name)
}

func pos(n *yaml.Node) flows.Pos { return flows.Pos{Line: n.Line, Col: n.Column} }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func didYouMean(name string, known []string) string {
	if s := suggest.Closest(name, known); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func requiredNames(fs []Field) string {
	var out []string
	for _, f := range fs {
		if f.Required {
			out = append(out, f.Name)
		}
	}
	return strings.Join(out, ", ")
}

// plain refuses anchors and aliases (a billion-laughs manifest) and
// nesting deeper than a manifest ever needs.
func (d *decoder) plain(n *yaml.Node, depth int) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		d.errorf(pos(n), "", "yaml", "anchors and aliases (&, *) are not supported in manifests; write the text out")
		return false
	}
	if depth > 6 {
		d.errorf(pos(n), "", "too-deep", "nesting deeper than 6 levels")
		return false
	}
	for _, c := range n.Content {
		if !d.plain(c, depth+1) {
			return false
		}
	}
	return true
}

// fields walks a mapping whose keys are the described fields: an unknown
// key, a key written twice and a required field left out are problems.
func (d *decoder) fields(n *yaml.Node, path string, spec []Field, fn func(key string, k, v *yaml.Node)) {
	known := make([]string, len(spec))
	for i, f := range spec {
		known[i] = f.Name
	}
	got := map[string]bool{}
	d.pairs(n, path, func(key string, k, v *yaml.Node) {
		if !slices.Contains(known, key) {
			d.errorf(pos(k), join(path, key), "unknown-field", "unknown field %q%s; the fields are %s", key, didYouMean(key, known), strings.Join(known, ", "))
			return
		}
		got[key] = true
		fn(key, k, v)
	})
	if n.Kind != yaml.MappingNode {
		return
	}
	for _, f := range spec {
		if f.Required && !got[f.Name] {
			where := "the manifest"
			if path != "" {
				where = path
			}
			d.errorf(pos(n), path, "missing-field", "%s needs %q: %s", where, f.Name, firstSentence(f.Doc))
		}
	}
}

func firstSentence(s string) string {
	if i := strings.Index(s, ": "); i > 0 && i < 60 {
		return s[:i]
	}
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}

// pairs walks a mapping, reporting keys written twice.
func (d *decoder) pairs(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(pos(n), path, "wrong-type", "expected a mapping (key: value), found %s", describe(n))
		return
	}
	seen := map[string]flows.Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(pos(k), path, "wrong-type", "keys must be plain words")
			continue
		}
		if first, ok := seen[k.Value]; ok {
			d.errorf(pos(k), join(path, k.Value), "duplicate-id", "%q is written twice (first at %s)", k.Value, first)
			continue
		}
		seen[k.Value] = pos(k)
		fn(k.Value, k, v)
	}
}

// mapOf walks a mapping of ids to values, of at most max entries.
func (d *decoder) mapOf(n *yaml.Node, path string, max int, fn func(id string, k, v *yaml.Node)) {
	if n.Kind == yaml.MappingNode && len(n.Content)/2 > max {
		d.errorf(pos(n), path, "too-large", "%d entries; the limit is %d", len(n.Content)/2, max)
		return
	}
	d.pairs(n, path, fn)
}

func describe(n *yaml.Node) string { return diag.Describe(n) }

func (d *decoder) scalar(n *yaml.Node, path, want string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(pos(n), path, "wrong-type", "expected %s, found %s", want, describe(n))
		return false
	}
	return true
}

func (d *decoder) str(n *yaml.Node, path string) string {
	if !d.scalar(n, path, "a text value") {
		return ""
	}
	if len(n.Value) > maxTextLen {
		d.errorf(pos(n), path, "too-large", "text of %d bytes; the limit is %d", len(n.Value), maxTextLen)
		return ""
	}
	return n.Value
}

func (d *decoder) int(n *yaml.Node, path string) int {
	if !d.scalar(n, path, "a whole number") {
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || n.Tag != "!!int" {
		d.errorf(pos(n), path, "wrong-type", "expected a whole number, found %q", n.Value)
		return 0
	}
	return v
}

func (d *decoder) bool(n *yaml.Node, path string) bool {
	if !d.scalar(n, path, "true or false") {
		return false
	}
	if n.Tag != "!!bool" {
		d.errorf(pos(n), path, "wrong-type", "expected true or false, found %q", n.Value)
		return false
	}
	return n.Value == "true"
}

func (d *decoder) strList(n *yaml.Node, path string, max int) []string {
	if n.Kind != yaml.SequenceNode {
		d.errorf(pos(n), path, "wrong-type", "expected a list such as [a, b], found %s", describe(n))
		return nil
	}
	if len(n.Content) > max {
		d.errorf(pos(n), path, "too-large", "%d items; the limit is %d", len(n.Content), max)
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, d.str(c, fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}

// text reads {es: …, en: …, qu: …}: es is required, other locales are
// warned about when missing, and an unknown locale is an error.
func (d *decoder) text(n *yaml.Node, path string) Text {
	t := Text{}
	d.pairs(n, path, func(loc string, k, v *yaml.Node) {
		if !slices.Contains(Locales, loc) {
			d.errorf(pos(k), join(path, loc), "unknown-locale", "unknown locale %q%s; the locales are %s", loc, didYouMean(loc, Locales), strings.Join(Locales, ", "))
			return
		}
		if s := d.str(v, join(path, loc)); s != "" {
			t[loc] = s
		}
	})
	if n.Kind != yaml.MappingNode {
		return t
	}
	if t[DefaultLocale] == "" {
		d.errorf(pos(n), path, "missing-translation", "the text needs %q (it is what every other locale falls back to)", DefaultLocale)
	}
	for _, loc := range Locales {
		if _, ok := t[loc]; !ok && loc != DefaultLocale {
			d.warnf(pos(n), path, "missing-translation", "no %q text; citizens reading %s see the %s one", loc, loc, DefaultLocale)
		}
	}
	return t
}
