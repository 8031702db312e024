package i18n

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/i18n/locale"
	"github.com/ventanilla-gob/ventanilla/internal/suggest"
	"github.com/ventanilla-gob/ventanilla/internal/tmpl"
)

// DefaultLocale is the locale every other locale falls back to.
const DefaultLocale = locale.Default

// locales are the supported locales, default first.
var locales = []string{DefaultLocale, "en", "qu"}

// ReviewPending lists, per locale, the ids whose texts await review by a
// native speaker; active.qu.toml carries the same warning in its header.
// Every Kichwa text does: once some are reviewed, list the others here.
var ReviewPending = map[string][]string{"qu": AllIDs}

//go:embed locales/active.*.toml
var embedded embed.FS

// unmarshalers decode message files by extension. We parse files ourselves
// rather than through Bundle.LoadMessageFile because the file's language tag
// must first be mapped to one of our locales (see bundleTag).
var unmarshalers = map[string]goi18n.UnmarshalFunc{
	"toml": toml.Unmarshal,
	"yaml": yaml.Unmarshal,
	"yml":  yaml.Unmarshal,
	"json": json.Unmarshal,
}

// kichwaTag files Kichwa messages in the go-i18n bundle. go-i18n refuses
// messages for a language without a CLDR plural rule, and CLDR has none for
// Quechua. "art" is the tag go-i18n itself registers a rule for (for
// artificial languages); the private-use suffix keeps it apart. The rule never
// applies: we only use the "other" form and never pass a plural count.
var kichwaTag = language.MustParse("art-x-qu")

func bundleTag(locale string) language.Tag {
	switch locale {
	case "en":
		return language.English
	case "qu":
		return kichwaTag
	}
	return language.Spanish
}

// Catalog holds the system messages of every supported locale. It is
// immutable after Load and safe for concurrent use.
type Catalog struct {
	localizers map[string]*goi18n.Localizer
	// entries holds, per locale and id, what Text serves.
	entries map[string]map[string]entry
}

type entry struct {
	// text is the rendered message, or the template source when the
	// message needs data (templated).
	text      string
	templated bool
	tmpl      tmpl.Template
	names     []string // the values its holes read: "Min" for {{Min}}
	variants  []string // ids of its variants ("validate.range.max"), sorted
}

// holes is how system messages write holes: the one template language of
// flows and notifications (internal/tmpl), with go-i18n's {{.Name}} read
// as {{Name}} so that message files written for go-i18n keep working.
var holes = tmpl.Options{Dotted: true, LeadingDot: true}

// Load builds the catalogue from the embedded files, plus optional extra
// TOML/YAML/JSON message files (paths) that override or add messages
// (institutions may ship their own translations). Files are applied in order,
// later ones winning. A file's locale comes from its name, as in go-i18n:
// "registro.es.toml", "registro.qu-EC.yaml" or "en.json".
func Load(extra ...string) (*Catalog, error) {
	l := loader{
		bundle:   goi18n.NewBundle(language.Spanish),
		messages: map[string]map[string]*goi18n.Message{},
	}
	for _, loc := range locales {
		name := "locales/active." + loc + ".toml"
		buf, err := embedded.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		if err := l.add(buf, name); err != nil {
			return nil, err
		}
	}
	for _, path := range extra {
		buf, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		if err := l.add(buf, path); err != nil {
			return nil, err
		}
	}

	c := &Catalog{
		localizers: make(map[string]*goi18n.Localizer, len(locales)),
		entries:    make(map[string]map[string]entry, len(locales)),
	}
	for _, loc := range locales {
		lz := goi18n.NewLocalizer(l.bundle, bundleTag(loc).String())
		c.localizers[loc] = lz
		c.entries[loc] = make(map[string]entry, len(l.messages[loc]))
		for id, m := range l.messages[loc] {
			if isTemplated(m) {
				t, _ := tmpl.Parse(m.Other, holes) // checked as the file was read
				var names []string
				for _, h := range t.Holes() {
					if !slices.Contains(names, h.Path[0]) {
						names = append(names, h.Path[0])
					}
				}
				c.entries[loc][id] = entry{text: m.Other, templated: true, tmpl: t, names: names}
				continue
			}
			// Render once here so that Text never executes a template.
			text, err := lz.Localize(&goi18n.LocalizeConfig{MessageID: id})
			if err != nil {
				return nil, fmt.Errorf("i18n: locale %s: message %q: %w", loc, id, err)
			}
			c.entries[loc][id] = entry{text: text}
		}
		for id, e := range c.entries[loc] {
			for other := range c.entries[loc] {
				if strings.HasPrefix(other, id+".") {
					e.variants = append(e.variants, other)
				}
			}
			slices.Sort(e.variants)
			c.entries[loc][id] = e
		}
	}
	return c, nil
}

type loader struct {
	bundle *goi18n.Bundle
	// messages holds the winning message per locale and id.
	messages map[string]map[string]*goi18n.Message
}

func (l *loader) add(buf []byte, path string) error {
	mf, err := goi18n.ParseMessageFileBytes(buf, path, unmarshalers)
	if err != nil {
		return fmt.Errorf("i18n: %s: %w", path, err)
	}
	loc, ok := locale.Match(locales, mf.Tag)
	if !ok {
		return fmt.Errorf("i18n: %s: locale %q from the file name is not one of %s (name files like name.es.toml)",
			path, mf.Tag, strings.Join(locales, ", "))
	}
	if l.messages[loc] == nil {
		l.messages[loc] = map[string]*goi18n.Message{}
	}
	msgs := make([]*goi18n.Message, 0, len(mf.Messages))
	for _, m := range mf.Messages {
		if m.Other == "" {
			if m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" {
				return fmt.Errorf("i18n: %s: message %q has no \"other\" text, the only form Ventanilla uses", path, m.ID)
			}
			// An empty text is an untranslated one: keep what an earlier
			// file said, or fall back to the default locale.
			continue
		}
		if m.LeftDelim != "" || m.RightDelim != "" {
			return fmt.Errorf("i18n: %s: message %q: holes are written {{name}}; other delimiters are not read", path, m.ID)
		}
		if isTemplated(m) {
			t, err := tmpl.Parse(m.Other, holes)
			if err != nil {
				return fmt.Errorf("i18n: %s: message %q: %w", path, m.ID, err)
			}
			if err := checkValues(m.ID, &t); err != nil {
				return fmt.Errorf("i18n: %s: message %q: %w", path, m.ID, err)
			}
		}
		l.messages[loc][m.ID] = m
		msgs = append(msgs, m)
	}
	if err := l.bundle.AddMessages(bundleTag(loc), msgs...); err != nil {
		return fmt.Errorf("i18n: %s: %w", path, err)
	}
	return nil
}

// values lists what the gateway hands each system message that has holes;
// a system message may only show these (an institution's own messages may
// show what its flows hand them).
var values = map[string][]string{
	ValidateRange: {"Min", "Max"}, ValidateRangeMax: {"Max"}, ValidateRangeMin: {"Min"},
	ValidateLength: {"Min", "Max"}, ValidateLengthMax: {"Max"}, ValidateLengthMin: {"Min"},
	ResumePrompt: {"Flow"},
	AuthCodeSMS:  {"Code"},
}

// checkValues refuses a hole of a system message that the gateway never
// fills, which would otherwise fall back to Spanish without a word.
func checkValues(id string, t *tmpl.Template) error {
	_, err := unknownHole(id, t)
	return err
}

// unknownHole returns the first hole of a system message's text that the
// gateway never fills, and what is wrong with it.
func unknownHole(id string, t *tmpl.Template) (*tmpl.Hole, error) {
	if !slices.Contains(AllIDs, id) {
		return nil, nil
	}
	known := values[id]
	for _, h := range t.Holes() {
		if slices.Contains(known, h.Path[0]) {
			continue
		}
		if len(known) == 0 {
			return h, fmt.Errorf("{{%s}}: this message is given no values; write it without holes", h.Name)
		}
		msg := fmt.Sprintf("{{%s}}: this message is given %s", h.Name, strings.Join(known, " and "))
		if near := suggest.Closest(h.Name, known); near != "" {
			msg += fmt.Sprintf(" (did you mean {{%s}}?)", near)
		}
		return h, errors.New(msg)
	}
	return nil, nil
}

func isTemplated(m *goi18n.Message) bool {
	return strings.Contains(m.Other, "{{") || strings.Contains(m.Other, "}}")
}

// Locales returns the supported locales, default first: ["es","en","qu"].
func (c *Catalog) Locales() []string { return slices.Clone(locales) }

// Supported reports whether locale is one of Locales(). The match is exact:
// map what a channel reports ("es-EC", "Kichwa") with locale.Negotiate first.
func (c *Catalog) Supported(locale string) bool { return slices.Contains(locales, locale) }

// Has reports whether the locale has its own text for id, without falling
// back to the default locale.
func (c *Catalog) Has(locale, id string) bool {
	if c == nil {
		return false
	}
	_, ok := c.entries[locale][id]
	return ok
}

// Text returns the message for id in locale, falling back to the default
// locale and then to the id itself; it never panics. It serves texts rendered
// at Load and does not allocate. A message that needs data ({{.Min}}) is
// returned unrendered: use Format for those.
func (c *Catalog) Text(locale, id string) string {
	if c == nil {
		return id
	}
	if e, ok := c.entries[locale][id]; ok {
		return e.text
	}
	if e, ok := c.entries[DefaultLocale][id]; ok {
		return e.text
	}
	return id
}

// Format returns the message for id in locale rendered with data, falling
// back like Text. Texts have holes and no conditions: when data lacks a
// value the message shows, Format takes the variant of the message (an id
// below it, "validate.range.min") that shows the most of data and needs
// nothing data lacks. A text that fails to render with data falls back
// too, so a citizen never sees a template error.
func (c *Catalog) Format(locale, id string, data map[string]any) string {
	if c == nil {
		return id
	}
	for i, loc := range [...]string{locale, DefaultLocale} {
		if i == 1 && loc == locale {
			break
		}
		e, ok := c.entries[loc][id]
		if !ok {
			continue
		}
		if !e.templated {
			return e.text
		}
		if !fits(e, data) {
			best := -1
			for _, v := range e.variants {
				if ve := c.entries[loc][v]; fits(ve, data) && len(ve.names) > best {
					e, best = ve, len(ve.names)
				}
			}
			if best < 0 {
				continue
			}
			if !e.templated {
				return e.text
			}
		}
		var b strings.Builder
		b.Grow(e.tmpl.Len() + 16)
		err := e.tmpl.Execute(&b, func(b *strings.Builder, h *tmpl.Hole) error {
			return writeValue(b, loc, data, h)
		})
		if err == nil {
			return b.String()
		}
	}
	return id
}

// fits reports whether data has a value for every hole of e.
func fits(e entry, data map[string]any) bool {
	for _, n := range e.names {
		if _, ok := data[n]; !ok {
			return false
		}
	}
	return true
}

// writeValue writes the value a hole reads from data, formatted in locale
// as the hole says: a string, a number or a boolean; anything else, or
// nothing, fails the rendering.
func writeValue(b *strings.Builder, locale string, data map[string]any, h *tmpl.Hole) error {
	var v any = data
	for _, k := range h.Path {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("no value for {{%s}}", h.Name)
		}
		if v, ok = m[k]; !ok {
			return fmt.Errorf("no value for {{%s}}", h.Name)
		}
	}
	if h.Format != tmpl.Plain && h.Format.Write(b, locale, v) {
		return nil
	}
	switch x := v.(type) {
	case string:
		b.WriteString(x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	default:
		return fmt.Errorf("{{%s}}: %T is not a text or a number", h.Name, v)
	}
	return nil
}
