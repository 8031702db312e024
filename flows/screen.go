package flows

import (
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

// Screen is what the engine says after a hop, before any channel shapes it:
// a body, numbered options and the localised navigation hints a channel may
// show. USSD pages it, SMS segments it, chat platforms turn options into
// buttons.
type Screen struct {
	Text    string   // body: pending messages and the prompt, already localised
	Options []Option // choices in display order; Key is what the citizen types
	Nav     Nav
	End     bool   // the conversation is over
	Retry   bool   // the answer was not accepted and the screen asks again
	Page    int    // which page of this screen the citizen asked for
	Locale  string // locale the texts are in
}

// Option is one numbered choice.
type Option struct {
	Key   string // "1", "2", …
	Label string
	// runes is Runes counted once, by NewOption, or 0: a menu's options are
	// built when its flow compiles and shown by every hop, and a channel
	// laying out a long menu (the national one) would otherwise count
	// every label again on each hop.
	runes int
}

// NewOption returns an option that carries the rune count of its key and
// label, for options built once and shown many times.
func NewOption(key, label string) Option {
	return Option{Key: key, Label: label, runes: utf8.RuneCountInString(key) + utf8.RuneCountInString(label)}
}

// Runes is how many runes Key and Label hold together: what a channel
// that measures screens in characters lays out.
func (o *Option) Runes() int {
	if o.runes > 0 {
		return o.runes
	}
	return utf8.RuneCountInString(o.Key) + utf8.RuneCountInString(o.Label)
}

// Nav carries the navigation keys with labels in the screen's locale. A zero
// Option means the key does not apply on this screen (e.g. no Back on the
// first screen). More and Prev are always filled in; the channel shows it only when it
// has to split the screen into pages.
type Nav struct {
	Back Option
	Home Option
	More Option
	// Prev is the Back key and label, always filled in: the channel shows it
	// on the second and later pages of a split screen, where the key means
	// "previous page" even when Back does not apply.
	Prev Option
}

// closingVar keeps a final screen that needs several pages; "$" keeps
// flows from reading or writing it.
const closingVar = "$closing"

// finish ends the conversation with what is pending. A final text longer
// than one page stays readable: the session lives on while the citizen
// pages through it, and the channel ends it on the last page.
func (h *hop) finish() Screen {
	h.s.Ended = true
	sc := Screen{Text: h.pending.String(), End: true, Locale: h.s.Locale, Nav: h.pagingNav()}
	if h.in.Pages != nil && h.in.Pages(&sc) > 1 {
		h.s.Vars[closingVar] = sc.Text
		h.s.Page = 0
	}
	return sc
}

// pagingNav is the navigation of a final screen: only paging keys.
func (h *hop) pagingNav() Nav {
	m, loc := h.messages(), h.s.Locale
	return Nav{
		More: Option{Key: h.e.Nav.More, Label: m.Text(loc, i18n.NavMore)},
		Prev: Option{Key: h.e.Nav.Back, Label: m.Text(loc, i18n.NavBack)},
	}
}

// closing pages through a final text kept by finish.
func (h *hop) closing(text, input string) Screen {
	s := h.s
	sc := Screen{Text: text, End: true, Locale: s.Locale, Nav: h.pagingNav()}
	switch input {
	case h.e.Nav.More:
		if h.in.Pages != nil && s.Page+1 < h.in.Pages(&sc) {
			s.Page++
		}
	case h.e.Nav.Back:
		if s.Page > 0 {
			s.Page--
		}
	}
	sc.Page = s.Page
	return sc
}

// noticeVar keeps what the current screen shows above its step's own
// text (texts of the steps just run, an error, a note), so that paging
// through the screen and a carrier's retry lay out the very same text:
// pages laid out from another text would overlap or skip options. "$"
// keeps flows from it.
const noticeVar = "$notice"

// show builds the screen of a step that waits, with prefix (an error)
// above it and above the texts already pending.
func (h *hop) show(cf *Compiled, st *Step, prefix string) (Screen, error) {
	s := h.s
	h.say(prefix)
	if notice := h.pending.String(); notice != "" {
		s.Vars[noticeVar] = notice
	} else {
		delete(s.Vars, noticeVar)
	}
	w, _ := st.body.(waiting)
	if w != nil {
		h.say(h.render(cf, w.prompt(), nil))
	}
	sc := Screen{Text: h.pending.String(), Locale: s.Locale, Page: s.Page}
	if w != nil {
		opts, err := w.options(h, cf, st)
		if err != nil {
			return Screen{}, err
		}
		sc.Options = opts
	}
	m := h.e.messages(cf)
	sc.Nav.More = Option{Key: h.e.Nav.More, Label: m.Text(s.Locale, i18n.NavMore)}
	sc.Nav.Prev = Option{Key: h.e.Nav.Back, Label: m.Text(s.Locale, i18n.NavBack)}
	// Back must not depend on the page: the pages of a screen are laid
	// out once for all of them (later pages show Prev).
	if len(s.History) > 0 {
		sc.Nav.Back = Option{Key: h.e.Nav.Back, Label: m.Text(s.Locale, i18n.NavBack)}
	}
	if h.canGoHome() {
		sc.Nav.Home = Option{Key: h.e.Nav.Home, Label: m.Text(s.Locale, i18n.NavHome)}
	}
	return sc, nil
}

// reshow builds the current screen again, as it was first shown, on the
// session's page.
func (h *hop) reshow(cf *Compiled, st *Step) (Screen, error) {
	notice, _ := h.s.Vars[noticeVar].(string)
	h.pending.Reset()
	return h.show(cf, st, notice)
}

// navNote shows the current screen again from its first page, with a
// note saying why a navigation key did nothing.
func (h *hop) navNote(cf *Compiled, st *Step, id string) (Screen, error) {
	h.s.Page = 0
	sc, err := h.show(cf, st, h.e.messages(cf).Text(h.s.Locale, id))
	sc.Retry = true
	return sc, err
}

// invalidOption shows the screen again under the error, from its first
// page: the error is at its top.
func (h *hop) invalidOption(cf *Compiled, st *Step) (Screen, error) {
	h.s.Page = 0
	sc, err := h.show(cf, st, h.e.messages(cf).Text(h.s.Locale, i18n.InvalidOption))
	sc.Retry = true
	return sc, err
}

// Above puts text above sc, the screen Apply has just returned for s, and
// keeps it there while the citizen pages through that screen: the gateway
// shows a result kept for the citizen this way.
func Above(s *conversation.State, sc *Screen, text string) {
	if text == "" {
		return
	}
	sc.Text = text + "\n" + sc.Text
	if sc.End || s.Vars == nil {
		return
	}
	if notice, _ := s.Vars[noticeVar].(string); notice != "" {
		text += "\n" + notice
	}
	s.Vars[noticeVar] = text
}
