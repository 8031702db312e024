// Package locale picks a citizen's locale from what a channel reports: a
// BCP 47 tag, an Accept-Language list or a language's name. It is a leaf
// that carrier adapters may import without the message catalogue (and
// go-i18n) of package i18n.
package locale

import (
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// languageNames maps what a citizen may type in an SMS or pick in a menu to a
// locale, in lower case with single spaces.
var languageNames = map[string]string{
	"español":    "es",
	"espanol":    "es",
	"castellano": "es",
	"spanish":    "es",

	"english": "en",
	"inglés":  "en",
	"ingles":  "en",

	"kichwa":       "qu",
	"kichwa shimi": "qu",
	"quichua":      "qu",
	"quechua":      "qu",
	"runa shimi":   "qu",
	"runashimi":    "qu",
	"runa simi":    "qu",
}

// kichwaCodes are language codes that we serve in Kichwa: the Quechua
// macrolanguage and the ISO 639-3 codes of the Quichua languages of Ecuador
// (Chimborazo, Imbabura, Calderón, Cañar, Loja, Salasaca, Northern and
// Southern Pastaza, Napo, Tena), plus quz, which Windows uses for "quz-EC".
// Default is the locale every other locale falls back to.
const Default = "es"

var kichwaCodes = []string{"qu", "qug", "qvi", "qud", "qxr", "qvj", "qxl", "qvz", "qup", "qvo", "quw", "quz"}

// Negotiate picks the best of the supported locales (base language codes such
// as Locales returns) for a citizen's preferences, tried in order. A
// preference is a BCP 47 tag ("es-EC", "en_US", "QU"), an Accept-Language
// list ("es-EC,es;q=0.9") or a language name ("Español", "english", "Kichwa",
// "runa shimi"), case-insensitively. Without a match it returns the first
// supported locale, the default, or "es" when supported is empty. It reads
// input from outside (Telegram's language_code, SMS keywords) and never
// panics.
func Negotiate(supported []string, prefs ...string) string {
	for _, p := range prefs {
		if loc, ok := negotiateOne(supported, p); ok {
			return loc
		}
	}
	if len(supported) > 0 {
		return supported[0]
	}
	return Default
}

func negotiateOne(supported []string, pref string) (string, bool) {
	p := strings.Join(strings.Fields(strings.ToLower(pref)), " ")
	p = strings.Trim(p, ".,;:!¡?¿\"' ")
	if p == "" {
		return "", false
	}
	if code, ok := languageNames[p]; ok {
		return supportedLocale(supported, code)
	}
	if strings.ContainsAny(p, ",;") {
		tags, _, err := language.ParseAcceptLanguage(p)
		if err != nil {
			return "", false
		}
		for _, t := range tags {
			if loc, ok := Match(supported, t); ok {
				return loc, true
			}
		}
		return "", false
	}
	t, err := language.Parse(p)
	if err != nil {
		return "", false
	}
	return Match(supported, t)
}

// Match maps a tag to a supported locale by its base language. x/text
// guesses a base for tags without one ("und" is "en" with low confidence):
// only a base actually written counts.
func Match(supported []string, t language.Tag) (string, bool) {
	base, conf := t.Base()
	if conf != language.Exact {
		return "", false
	}
	code := base.String()
	if slices.Contains(kichwaCodes, code) {
		code = "qu"
	}
	return supportedLocale(supported, code)
}

func supportedLocale(supported []string, code string) (string, bool) {
	for _, s := range supported {
		if strings.EqualFold(s, code) {
			return s, true
		}
	}
	return "", false
}
