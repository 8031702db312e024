package i18n

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/diag"
	"github.com/ventanilla-gob/ventanilla/i18n/locale"
	"github.com/ventanilla-gob/ventanilla/internal/tmpl"
)

// Screen budget of a system message: a USSD screen holds 182 characters,
// and a message must leave room for the options under it; a navigation
// label is one word, shown on every screen that waits. The shipped texts
// keep to it (a test checks them) and an institution's overrides are
// warned about past it.
const (
	MaxMessageLen = 120
	MaxNavLen     = 12
)

// navLabels are the messages shown as options of every screen.
var navLabels = []string{NavBack, NavHome, NavMore}

// worstCase is what the gateway hands the messages with holes, as long as
// it plausibly gets: what the length of a text is measured with.
var worstCase = map[string]any{"Min": 1000000000, "Max": 9999999999, "Flow": "Consulta de trámites pendientes", "Code": "999999"}

// Overrides are one institution's own texts for some of the system
// messages, in some of the locales: laid over the catalogue with With, for
// the conversations in that institution's flows. They are immutable.
type Overrides struct {
	// texts holds, per locale and id, the text that replaces the
	// catalogue's.
	texts map[string]map[string]entry
}

// Len returns how many texts (ids times locales) the overrides replace.
func (o *Overrides) Len() int {
	if o == nil {
		return 0
	}
	n := 0
	for _, m := range o.texts {
		n += len(m)
	}
	return n
}

// notOverridden are ids an institution cannot replace: the name of a
// language is said where the citizen chooses one, outside any institution.
var notOverridden = map[string]string{
	LanguageName: "a language's own name is shown where the citizen chooses a language, outside any institution's flow",
}

// ParseOverrides reads an institution's system-message overrides:
//
//	messages:
//	  call.error:
//	    es: "El Registro Civil no pudo atenderle. Intente más tarde."
//	    en: "The Civil Registry could not serve you. Try again later."
//	  validate.cedula: {es: "Escriba los 10 dígitos de su cédula."}
//
// Ids are those of the catalogue (AllIDs), locales those of Locales; a
// text may show only the values the gateway hands that message ({{Min}},
// {{Max}}, {{Flow}}, {{Code}}). Problems carry file:line:col; a file of
// comments alone overrides nothing. With an error the overrides are nil.
func ParseOverrides(file string, data []byte) (*Overrides, diag.Problems) {
	o := &Overrides{texts: map[string]map[string]entry{}}
	root, bad := diag.Parse(file, data)
	if bad != nil {
		bad.Severity = diag.Error
		return nil, diag.Problems{*bad}
	}
	if root == nil {
		return o, nil
	}
	r := &diag.Report{File: file, Grade: diag.Error}
	var list *yaml.Node
	if root = diag.Resolve(root); root.Kind != yaml.MappingNode {
		r.Errorf(diag.At(root), "", "wrong-type", "expected a mapping with messages:, found %s", diag.Describe(root))
		return nil, r.Problems
	}
	r.Pairs(root, "", nil, func(k, v *yaml.Node) {
		if k.Value != "messages" {
			r.Unknown(k, "", []string{"messages"})
			return
		}
		list = v
	})
	if list != nil && !(list.Kind == yaml.ScalarNode && list.Tag == "!!null") {
		r.Pairs(list, "messages", func(id string, first diag.Pos) string {
			return fmt.Sprintf("message %q is overridden twice (first at %s)", id, first)
		}, func(k, v *yaml.Node) {
			o.message(r, k, v)
		})
	}
	if r.Problems.HasErrors() {
		r.Problems.Sort()
		return nil, r.Problems
	}
	r.Problems.Sort()
	return o, r.Problems
}

// message reads the texts of one id.
func (o *Overrides) message(r *diag.Report, k, v *yaml.Node) {
	id, path := k.Value, diag.Join("messages", k.Value)
	if !slices.Contains(AllIDs, id) {
		r.Errorf(diag.At(k), path, "unknown-message", "%q is not a system message%s; the ids are listed in docs/institutions.md", id, diag.DidYouMean(id, AllIDs))
		return
	}
	if why, ok := notOverridden[id]; ok {
		r.Errorf(diag.At(k), path, "not-overridable", "%s cannot be overridden: %s", id, why)
		return
	}
	r.Pairs(v, path, func(loc string, first diag.Pos) string {
		return fmt.Sprintf("locale %s is given twice (first at %s)", loc, first)
	}, func(lk, lv *yaml.Node) {
		loc, lpath := lk.Value, path+"."+lk.Value
		switch {
		case !slices.Contains(locales, loc):
			r.Errorf(diag.At(lk), lpath, "unknown-locale", "unknown locale %q%s; the locales are %s", loc, meantLocale(loc), strings.Join(locales, ", "))
			return
		case lv.Kind != yaml.ScalarNode || lv.Tag != "!!str":
			r.Errorf(diag.At(lv), lpath, "wrong-type", "expected a text, found %s", diag.Describe(lv))
			return
		case strings.TrimSpace(lv.Value) == "":
			r.Errorf(diag.At(lv), lpath, "empty-text", "empty text: leave the locale out to keep the catalogue's")
			return
		}
		e, at, err := overrideEntry(id, lv.Value)
		if err != nil {
			r.Errorf(textPos(lv, at), lpath, "bad-hole", "%s", err)
			return
		}
		o.warnLength(r, lv, lpath, id, loc, e)
		if o.texts[loc] == nil {
			o.texts[loc] = map[string]entry{}
		}
		o.texts[loc][id] = e
	})
}

// meantLocale suggests the locale a key probably means: one spelt alike,
// or the one of its language ("es-EC", "qu_EC", "EN").
func meantLocale(key string) string {
	if near := diag.DidYouMean(key, locales); near != "" {
		return near
	}
	if t, err := language.Parse(key); err == nil {
		if loc, ok := locale.Match(locales, t); ok {
			return fmt.Sprintf(" (did you mean %q?)", loc)
		}
	}
	return ""
}

// overrideEntry builds the entry of one text, or says what is wrong with
// its holes and at which byte.
func overrideEntry(id, text string) (entry, int, error) {
	if !strings.Contains(text, "{{") && !strings.Contains(text, "}}") {
		return entry{text: text}, 0, nil
	}
	t, err := tmpl.Parse(text, holes)
	if err != nil {
		var te *tmpl.Error
		at := -1
		if errors.As(err, &te) {
			at = te.At
		}
		return entry{}, at, err
	}
	if h, err := unknownHole(id, &t); err != nil {
		return entry{}, h.At, err
	}
	if len(t.Holes()) == 0 {
		// Escaped braces only: the text as it reads.
		var b strings.Builder
		_ = t.Execute(&b, func(*strings.Builder, *tmpl.Hole) error { return nil })
		return entry{text: b.String()}, 0, nil
	}
	var names []string
	for _, h := range t.Holes() {
		if !slices.Contains(names, h.Path[0]) {
			names = append(names, h.Path[0])
		}
	}
	return entry{text: text, templated: true, tmpl: t, names: names}, 0, nil
}

// warnLength warns about a text past the screen budget: a navigation
// label of more than one short word, a message longer than MaxMessageLen
// with the longest values it may show.
func (o *Overrides) warnLength(r *diag.Report, v *yaml.Node, path, id, loc string, e entry) {
	text := e.text
	if e.templated {
		var b strings.Builder
		if e.tmpl.Execute(&b, func(b *strings.Builder, h *tmpl.Hole) error { return writeValue(b, loc, worstCase, h) }) == nil {
			text = b.String()
		}
	}
	n := utf8.RuneCountInString(text)
	switch {
	case slices.Contains(navLabels, id) && (n > MaxNavLen || strings.ContainsAny(text, " \t\n")):
		r.Warnf(diag.At(v), path, "too-long", "%q: a navigation label is one word of at most %d characters, shown on every screen that waits", text, MaxNavLen)
	case n > MaxMessageLen:
		r.Warnf(diag.At(v), path, "too-long", "%d characters, over the %d a system message may take to leave room on a USSD page for the options under it (with the longest values it shows); shorten it or the screens that show it will be split into pages", n, MaxMessageLen)
	}
}

// textPos is where byte at of a YAML text is written: the brace itself on
// a one-line text, else the text's start.
func textPos(v *yaml.Node, at int) diag.Pos {
	p := diag.At(v)
	if at < 0 || at > len(v.Value) || strings.Contains(v.Value, "\n") {
		return p
	}
	p.Col += utf8.RuneCountInString(v.Value[:at])
	if v.Style == yaml.DoubleQuotedStyle || v.Style == yaml.SingleQuotedStyle {
		p.Col++
	}
	return p
}

// With returns the catalogue with o's texts in place of its own, for the
// conversations in one institution's flows: an id or a locale o leaves out
// keeps the catalogue's text, and a locale without it falls back to the
// default locale as in c. The result shares c's texts, copying only the
// tables of the locales o changes, so Text costs what it costs on c. c is
// not changed; With(nil) and With of empty overrides return c.
func (c *Catalog) With(o *Overrides) *Catalog {
	if c == nil || o.Len() == 0 {
		return c
	}
	out := &Catalog{localizers: c.localizers, entries: make(map[string]map[string]entry, len(c.entries))}
	for loc, base := range c.entries {
		texts := o.texts[loc]
		if len(texts) == 0 {
			out.entries[loc] = base
			continue
		}
		m := make(map[string]entry, len(base))
		for id, e := range base {
			m[id] = e
		}
		for id, e := range texts {
			// Its variants stay the catalogue's: validate.range.max is
			// overridden on its own, or not.
			e.variants = base[id].variants
			m[id] = e
		}
		out.entries[loc] = m
	}
	return out
}

// Reference returns, in Markdown, the system messages an institution may
// override: the id, the values its text may show, when it is said, and the
// catalogue's Spanish text, from the files the catalogue is loaded from.
// docs/institutions.md embeds it and a test keeps it fresh.
func Reference() string {
	buf, err := embedded.ReadFile("locales/active." + DefaultLocale + ".toml")
	if err != nil {
		return err.Error()
	}
	mf, err := goi18n.ParseMessageFileBytes(buf, "active."+DefaultLocale+".toml", unmarshalers)
	if err != nil {
		return err.Error()
	}
	byID := make(map[string]*goi18n.Message, len(mf.Messages))
	for _, m := range mf.Messages {
		byID[m.ID] = m
	}
	cell := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), "\n", " "), "|", `\|`)
	}
	var b strings.Builder
	b.WriteString("| id | values | said | the catalogue's text (es) |\n|---|---|---|---|\n")
	for _, id := range AllIDs {
		if _, no := notOverridden[id]; no {
			continue
		}
		var given []string
		for _, v := range values[id] {
			given = append(given, "`{{"+v+"}}`")
		}
		m := byID[id]
		if m == nil {
			m = &goi18n.Message{}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", id, strings.Join(given, " "), cell(m.Description), cell(m.Other))
	}
	return b.String()
}
