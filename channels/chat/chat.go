package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/flows"
)

// Message is a screen as a chat platform shows it.
type Message struct {
	// Text is empty only when the screen's body is; platforms that
	// refuse empty messages must supply their own.
	Text string
	// Buttons are rows of buttons: the options of this page, Columns to a
	// row, then one row of navigation. Nil when there is nothing to press.
	Buttons [][]Button
}

// Button is one button. Data is what pressing it answers — exactly what
// the citizen would have typed ("1", "0", "00", "98") — and is always
// valid callback data (1–64 bytes). Platforms whose buttons send their
// label instead (Telegram reply keyboards) must map the label back to
// Data.
type Button struct {
	Label string
	Data  string
}

// Limits of the platforms the defaults are set for (Telegram Bot API).
const (
	DefaultPerPage  = 8    // option buttons per page: a keyboard that fits a phone screen
	DefaultMaxText  = 4096 // message text, in UTF-16 code units
	DefaultMaxLabel = 64   // button label, in characters; clients elide long labels anyway
	MaxData         = 64   // callback data, in bytes
)

// Options shape the chat rendering of a screen; zero fields take the
// defaults.
type Options struct {
	PerPage  int // option buttons per page (DefaultPerPage)
	Columns  int // option buttons per row (1: labels are often sentences)
	MaxText  int // UTF-16 code units of text per message (DefaultMaxText)
	MaxLabel int // characters per button label (DefaultMaxLabel)
}

func (o Options) withDefaults() Options {
	if o.PerPage <= 0 {
		o.PerPage = DefaultPerPage
	}
	if o.Columns <= 0 {
		o.Columns = 1
	}
	if o.MaxText <= 0 {
		o.MaxText = DefaultMaxText
	}
	if o.MaxLabel <= 0 {
		o.MaxLabel = DefaultMaxLabel
	}
	return o
}

// Render returns page s.Page (clamped into range) of s as a message.
//
// The text is the screen's body. Options become buttons, PerPage to a
// page; a body longer than MaxText is split on white space (a word is cut
// only when it alone is longer) into pages of its own that come first, and
// the pages of options after the first repeat the body's last part, which
// holds the question being asked. The last row holds the navigation
// buttons, labelled with the screen's own Nav labels: Back (on pages
// after the first always, meaning previous page; on the first only when
// the screen has one), More when a later page exists, and Home on every
// page when the screen has one. Paging keys the screen does not offer fall
// back to "98"/"0" labelled by Locale ("en": More/Back, anything else:
// Más/Atrás), as on USSD, so the engine's keys work the same on every
// channel.
//
// End screens have no buttons, except the More and Back needed to page
// through a body longer than one message.
//
// An option or navigation key that is not valid callback data (empty, or
// longer than 64 bytes) gets no button: platforms reject a whole message
// for one bad button. The engine's keys are short numbers.
func Render(s *flows.Screen, opts Options) Message {
	opts = opts.withDefaults()
	l := newLayout(s, opts)
	i := min(max(s.Page, 0), l.pages-1)

	m := Message{Text: l.text(opts, i)}
	var lo, hi int
	if k := i - (l.bodyPages - 1); k >= 0 {
		lo = min(k*opts.PerPage, len(l.opts))
		hi = min(lo+opts.PerPage, len(l.opts))
	}
	navs, n := l.nav(s, i)
	nav := navs[:n]
	if hi == lo && len(nav) == 0 {
		return m
	}
	flat := make([]Button, 0, hi-lo+len(nav))
	for _, o := range l.opts[lo:hi] {
		flat = append(flat, Button{Label: label(o, opts.MaxLabel), Data: o.Key})
	}
	rows := (hi-lo+opts.Columns-1)/opts.Columns + 1
	m.Buttons = make([][]Button, 0, rows)
	for k := 0; k < hi-lo; k += opts.Columns {
		end := min(k+opts.Columns, hi-lo)
		m.Buttons = append(m.Buttons, flat[k:end:end])
	}
	if len(nav) > 0 {
		start := len(flat)
		for _, o := range nav {
			flat = append(flat, Button{Label: label(o, opts.MaxLabel), Data: o.Key})
		}
		m.Buttons = append(m.Buttons, flat[start:])
	}
	return m
}

// Pages returns how many pages s needs; the engine uses it to know whether
// the More key is valid on the current page.
func Pages(s *flows.Screen, opts Options) int {
	return newLayout(s, opts.withDefaults()).pages
}

type layout struct {
	opts      []flows.Option // options that get a button (none on End screens)
	body      string         // trimmed body
	bodyPages int            // ≥ 1; an empty body is one empty page
	pages     int
}

func newLayout(s *flows.Screen, o Options) layout {
	l := layout{body: strings.TrimFunc(s.Text, isBreak)}
	if !s.End {
		l.opts = pressable(s.Options)
	}
	for rest := l.body; ; {
		_, rest = splitText(rest, o.MaxText)
		l.bodyPages++
		if rest == "" {
			break
		}
	}
	optPages := max((len(l.opts)+o.PerPage-1)/o.PerPage, 1)
	l.pages = l.bodyPages + optPages - 1
	return l
}

// text returns the text of page i: its part of the body, or the last
// part on later pages of options.
func (l *layout) text(o Options, i int) string {
	piece, rest := splitText(l.body, o.MaxText)
	for range min(i, l.bodyPages-1) {
		piece, rest = splitText(rest, o.MaxText)
	}
	return piece
}

// nav returns the n navigation keys of page i, in button order.
func (l *layout) nav(s *flows.Screen, i int) (out [3]flows.Option, n int) {
	last := i == l.pages-1
	add := func(o flows.Option) {
		if validData(o.Key) {
			out[n] = o
			n++
		}
	}
	backLabel, moreLabel := "Atrás", "Más"
	if strings.HasPrefix(s.Locale, "en") {
		backLabel, moreLabel = "Back", "More"
	}
	switch {
	case s.End && last:
		return out, 0
	case i == 0:
		if !s.End && s.Nav.Back.Key != "" {
			add(s.Nav.Back)
		}
	case s.Nav.Back.Key != "":
		add(s.Nav.Back)
	case s.Nav.Prev.Key != "":
		add(s.Nav.Prev)
	default:
		add(flows.Option{Key: "0", Label: backLabel})
	}
	if !last {
		if s.Nav.More.Key != "" {
			add(s.Nav.More)
		} else {
			add(flows.Option{Key: "98", Label: moreLabel})
		}
	}
	if !s.End && s.Nav.Home.Key != "" {
		add(s.Nav.Home)
	}
	return out, n
}

// pressable returns the options whose key is valid callback data; the
// options themselves when all are, which is always for engine screens.
func pressable(opts []flows.Option) []flows.Option {
	for k, o := range opts {
		if validData(o.Key) {
			continue
		}
		out := append([]flows.Option(nil), opts[:k]...)
		for _, o := range opts[k+1:] {
			if validData(o.Key) {
				out = append(out, o)
			}
		}
		return out
	}
	return opts
}

func validData(key string) bool { return key != "" && len(key) <= MaxData }

// label returns the button label of o: its label cut to maxRunes and
// ended with "…" (at a word boundary when one falls in the second half),
// or its key when the label is blank, since platforms reject buttons
// without text.
func label(o flows.Option, maxRunes int) string {
	l := strings.TrimSpace(o.Label)
	if l == "" {
		return o.Key
	}
	if utf8.RuneCountInString(l) <= maxRunes {
		return l
	}
	n, space := 0, -1
	for i, r := range l {
		if n == maxRunes-1 {
			if space >= 0 {
				i = space
			}
			return strings.TrimRightFunc(l[:i], unicode.IsSpace) + "…"
		}
		if unicode.IsSpace(r) && n >= maxRunes/2 {
			space = i
		}
		n++
	}
	return l
}

// splitText returns the longest prefix of text of at most maxUnits UTF-16
// code units that ends at a word boundary, and what is left after it, the
// white space at the cut dropped. A word longer than maxUnits is cut
// between characters. text must not start with a break.
func splitText(text string, maxUnits int) (piece, rest string) {
	u, lastBreak, cut := 0, -1, len(text)
	inBreak := false
	for i, r := range text {
		brk := isBreak(r)
		if brk && !inBreak && i > 0 {
			lastBreak = i
		}
		inBreak = brk
		w := 1
		if r > 0xFFFF {
			w = 2
		}
		if u+w > maxUnits {
			cut = i
			break
		}
		u += w
	}
	switch {
	case cut == len(text):
		return text, ""
	case lastBreak > 0:
		return text[:lastBreak], strings.TrimLeftFunc(text[lastBreak:], isBreak)
	case cut == 0: // maxUnits below one character: take it anyway
		_, n := utf8.DecodeRuneInString(text)
		cut = n
	}
	return text[:cut], strings.TrimLeftFunc(text[cut:], isBreak)
}

// isBreak reports whether text may be split at r: any white space except
// the no-break spaces, which authors use to keep "12 345" together.
func isBreak(r rune) bool {
	return unicode.IsSpace(r) && r != '\u00a0' && r != '\u2007' && r != '\u202f'
}
