package telegram

import "github.com/ventanilla-gob/ventanilla/i18n/locale"

// text is one of the adapter's own messages, per locale. They are few
// and only this adapter says them, so they live here rather than in the
// flows' catalogue.
//
// Kichwa: only the button label has a proposed translation, and it awaits
// a native speaker's review; the other messages fall back to Spanish
// until one is provided.
type text struct{ es, en, qu string }

var (
	msgShareLabel = text{
		es: "Compartir mi número",
		en: "Share my number",
		qu: "Ñuka yupayta willachiy", // awaiting native review
	}
	msgSharePrompt = text{
		es: "Si comparte su número, recordaremos su idioma y sus trámites en este chat.",
		en: "If you share your number, we will remember your language and your procedures in this chat.",
	}
	msgLinked = text{
		es: "Gracias. Su número quedó vinculado a este chat.",
		en: "Thank you. Your number is now linked to this chat.",
	}
	msgNotYours = text{
		es: "Solo puede compartir su propio número, con el botón «Compartir mi número».",
		en: "You can only share your own number, with the “Share my number” button.",
	}
	msgBadNumber = text{
		es: "No pudimos leer ese número.",
		en: "We could not read that number.",
	}
	msgStale = text{
		es: "Esa opción ya no está disponible.",
		en: "That option is no longer available.",
	}
)

// in returns the message in loc, falling back to Spanish.
func (t text) in(loc string) string {
	switch {
	case loc == "en" && t.en != "":
		return t.en
	case loc == "qu" && t.qu != "":
		return t.qu
	}
	return t.es
}

// adapterLocale picks the adapter's locale from the sender's Telegram
// language (an IETF tag such as "en" or "es-EC"). The gateway's own screens follow
// the language the citizen chose in the flow; the adapter cannot know
// that choice, so its few messages follow the Telegram app's language.
func adapterLocale(tag string) string {
	return locale.Negotiate(adapterLocales, tag)
}

// adapterLocales are the locales of the adapter's messages, the default first.
var adapterLocales = []string{"es", "en", "qu"}
