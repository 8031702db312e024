package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

// DefaultLocale is the locale every other locale falls back to.
const DefaultLocale = "es"

// locales are the supported locales, default first.
var locales = []string{DefaultLocale, "en", "qu"}

// ReviewPending lists, per locale, the ids whose texts await review by a
// native speaker. Remove an id once its text has been reviewed; active.qu.toml
// carries the same warning in its header.
var ReviewPending = map[string][]string{
	"qu": {
		NavBack, NavHome, NavMore, NavNoMore, NavNoBack,
		InvalidOption, InvalidInput, TooManyAttempts, SessionExpired, ServiceUnavail, TryAgain, Goodbye, FlowTooLarge,
		ValidateCedula, ValidateRUC, ValidatePhone, ValidateDate, ValidateRange, ValidateLength, ValidateRegex, ValidateRequired,
		CallNotFound, CallRejected, CallError, CallTimeout, CallUnavailable,
		LanguageName,
		ResumePrompt, ResumeContinue, ResumeRestart, ResumeDone,
		AsyncSMS, AsyncNextContact, AsyncResult,
		AuthNeedsNumber, AuthCodePrompt, AuthCodeSMS, AuthCodeWrong, AuthCodeExpired, AuthUnavailable,
		AuthPINPrompt, AuthPINWrong, AuthPINLocked, AuthPINCreate, AuthPINSet,
	},
}

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
}

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
				c.entries[loc][id] = entry{text: m.Other, templated: true}
				continue
			}
			// Render once here so that Text never executes a template.
			text, err := lz.Localize(&goi18n.LocalizeConfig{MessageID: id})
			if err != nil {
				return nil, fmt.Errorf("i18n: locale %s: message %q: %w", loc, id, err)
			}
			c.entries[loc][id] = entry{text: text}
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
	loc, ok := matchTag(locales, mf.Tag)
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
		if isTemplated(m) {
			if _, err := (&template.TextParser{}).Parse(m.Other, m.LeftDelim, m.RightDelim); err != nil {
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

func isTemplated(m *goi18n.Message) bool {
	delim := m.LeftDelim
	if delim == "" {
		delim = "{{"
	}
	return strings.Contains(m.Other, delim)
}

// Locales returns the supported locales, default first: ["es","en","qu"].
func (c *Catalog) Locales() []string { return slices.Clone(locales) }

// Supported reports whether locale is one of Locales(). The match is exact:
// map what a channel reports ("es-EC", "Kichwa") with Negotiate first.
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
// back like Text. A text that fails to render with data falls back too, so a
// citizen never sees a template error.
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
		text, err := c.localizers[loc].Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
		if err == nil {
			return text
		}
	}
	return id
}
