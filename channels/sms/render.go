package sms

import (
	"iter"
	"strings"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/flows"
)

// DefaultMaxSegments is the reply budget when Options leaves it at zero.
// Flows are written for 182-character USSD screens; three concatenated
// segments hold such a screen whole even in UCS-2 (201 code units), and a
// carrier charges for the segments a reply uses, not for the budget.
const DefaultMaxSegments = 3

// Options shape the SMS rendering of a screen.
type Options struct {
	// Transliterate applies Transliterate to each page it brings into
	// GSM-7. A page that is UCS-2 anyway (an emoji, a character outside
	// GSM-7 that is not one of the eight) keeps its accents: there they
	// cost nothing.
	Transliterate bool
	// MaxSegments is how many concatenated segments one reply may take:
	// 1 for carriers that do not concatenate; 0 means DefaultMaxSegments.
	MaxSegments int
}

func (o Options) maxSegments() int {
	if o.MaxSegments <= 0 {
		return DefaultMaxSegments
	}
	return o.MaxSegments
}

// navSep separates the items of the one navigation line. The middle dot
// would read better but is not in GSM-7: it would make every page UCS-2.
const navSep = " - "

// navCap is the UTF-16 code units one navigation item ("0 Atrás") may
// take; longer labels are cut so that they cannot starve a page even at
// one UCS-2 segment.
const navCap = 20

// Render returns page s.Page (clamped into range) of the SMS text for s.
// A page reads
//
//	body text (may itself contain newlines)
//	1. Label      one line per option: Key + ". " + Label
//	98 Más - 0 Atrás - 00 Inicio
//
// and fits opts.MaxSegments concatenated segments, measured exactly in
// the encoding the page itself needs. The last line carries the
// navigation keys the page offers, with the screen's own Nav keys and
// labels: More when the screen needs several pages, Back (pages after the
// first always, meaning previous page; the first only when the screen has
// one) and Home on the last page only, and only when it fits there.
//
// SMS replies carry the whole screen when it fits; when it does not, it
// is paged exactly like USSD (ussd.Paginate) so that the engine's More
// and Back keys work the same on both channels: the body is split on
// white space (a word is cut only when it alone does not fit a page;
// no-break spaces never split), each page holds whole options, and an
// option line too long for an otherwise empty page — only absurd labels
// cause that — is cut and ends with "...". Paging keys the screen does
// not offer fall back to "98"/"0" labelled by Locale ("en": More/Back,
// anything else: Más/Atrás).
//
// End screens show the text only; a text too long for one reply is paged
// all the same (More and Back on every page but the last, the last page
// bare), and the engine keeps the session open until the last page.
func Render(s *flows.Screen, opts Options) string {
	var buf [4]page
	nv, ps := layout(s, opts, buf[:0])
	i := min(max(s.Page, 0), len(ps)-1)
	return render(s, opts, &nv, &ps[i])
}

// Pages returns how many pages s needs; the engine uses it to know whether
// the More key is valid on the current page.
func Pages(s *flows.Screen, opts Options) int {
	var buf [4]page
	_, ps := layout(s, opts, buf[:0])
	return len(ps)
}

// Paginate returns every page of s, as Render would show them. The gateway
// renders one page a hop; Paginate is for tests and tools that show the
// whole conversation.
func Paginate(s *flows.Screen, opts Options) []string {
	var buf [4]page
	nv, ps := layout(s, opts, buf[:0])
	out := make([]string, len(ps))
	for i := range ps {
		out[i] = render(s, opts, &nv, &ps[i])
	}
	return out
}

// page is one laid-out page; body is a substring of the screen text.
type page struct {
	body             string
	lo, hi           int    // options [lo, hi) go on this page
	cut              string // option lo's line cut to fit an empty page; "" when whole
	more, back, home bool
}

type navItem struct{ key, label string }

type nav struct {
	back, more, home navItem
	hasHome          bool
	firstBack        bool // Back shown on page 0
	end              bool
}

func resolveNav(s *flows.Screen) nav {
	backLabel, moreLabel := "Atrás", "Más"
	if strings.HasPrefix(s.Locale, "en") {
		backLabel, moreLabel = "Back", "More"
	}
	nv := nav{end: s.End}
	switch {
	case s.Nav.Back.Key != "":
		nv.back = mkNav(s.Nav.Back)
		nv.firstBack = !s.End
	case s.Nav.Prev.Key != "":
		nv.back = mkNav(s.Nav.Prev)
	default:
		nv.back = mkNav(flows.Option{Key: "0", Label: backLabel})
	}
	if s.Nav.More.Key != "" {
		nv.more = mkNav(s.Nav.More)
	} else {
		nv.more = mkNav(flows.Option{Key: "98", Label: moreLabel})
	}
	if s.Nav.Home.Key != "" && !s.End {
		nv.home = mkNav(s.Nav.Home)
		nv.hasHome = true
	}
	return nv
}

// mkNav caps an item at navCap code units: the key at half of it, the
// label at what is left after the key and a space.
func mkNav(o flows.Option) navItem {
	key := prefixUnits(o.Key, navCap/2)
	return navItem{key: key, label: prefixUnits(o.Label, navCap-1-units(key))}
}

// prefixUnits returns the longest prefix of s of at most n UTF-16 code
// units that does not end inside a character.
func prefixUnits(s string, n int) string {
	u := 0
	for i, r := range s {
		u += utf16Len(r)
		if u > n {
			return s[:i]
		}
	}
	return s
}

func units(s string) int {
	u := 0
	for _, r := range s {
		u += utf16Len(r)
	}
	return u
}

func utf16Len(r rune) int {
	if r > 0xFFFF {
		return 2
	}
	return 1
}

// backOn reports whether page i shows Back.
func (nv *nav) backOn(i int, last bool) bool {
	switch {
	case last && nv.end:
		return false
	case i == 0:
		return nv.firstBack
	default:
		return true
	}
}

// addLine adds the navigation line of p to c, with the newline before
// it: the line follows content.
func (nv *nav) addLine(c *counter, p *page) {
	items, n := nv.items(p)
	for k, item := range items[:n] {
		if k > 0 {
			c.addString(navSep)
		} else {
			c.add('\n')
		}
		c.addString(item.key)
		c.add(' ')
		c.addString(item.label)
	}
}

// items returns the navigation items p shows, in order.
func (nv *nav) items(p *page) (items [3]*navItem, n int) {
	for _, it := range [...]struct {
		on   bool
		item *navItem
	}{{p.more, &nv.more}, {p.back, &nv.back}, {p.home, &nv.home}} {
		if it.on {
			items[n] = it.item
			n++
		}
	}
	return items, n
}

// parts yields the text of p piece by piece, in order. Laying out
// (measure) and rendering (render) both read a page through it, so what
// is measured is what is sent.
func (nv *nav) parts(s *flows.Screen, p *page) iter.Seq[string] {
	return func(yield func(string) bool) {
		first := true
		line := func() bool { // separates lines
			if first {
				first = false
				return true
			}
			return yield("\n")
		}
		if p.body != "" && !(line() && yield(p.body)) {
			return
		}
		for k := p.lo; k < p.hi; k++ {
			if !line() {
				return
			}
			if k == p.lo && p.cut != "" {
				if !yield(p.cut) {
					return
				}
				continue
			}
			o := &s.Options[k]
			if !(yield(o.Key) && yield(". ") && yield(o.Label)) {
				return
			}
		}
		items, n := nv.items(p)
		for k, item := range items[:n] {
			if k == 0 && !line() || k > 0 && !yield(navSep) {
				return
			}
			if !(yield(item.key) && yield(" ") && yield(item.label)) {
				return
			}
		}
	}
}

func (nv *nav) measure(s *flows.Screen, p *page, base counter) counter {
	c := base
	for part := range nv.parts(s, p) {
		c.addString(part)
	}
	return c
}

// layout computes the pages of s, appending to dst. It is greedy, like
// ussd's: each page first checks whether all that remains fits as the
// last page; if not it reserves More (and Back) and fills the rest with
// body, then with as many whole options as fit.
func layout(s *flows.Screen, o Options, dst []page) (nav, []page) {
	maxSeg := o.maxSegments()
	base := counter{translit: o.Transliterate}
	nv := resolveNav(s)
	opts := s.Options
	if s.End {
		opts = nil
	}
	rest := strings.TrimFunc(s.Text, isBreak)
	j := 0
	for i := 0; ; i++ {
		// Does everything left fit as the last page?
		p := page{body: rest, lo: j, hi: len(opts), back: nv.backOn(i, true)}
		c := nv.measure(s, &p, base)
		fits := c.fits(maxSeg)
		if !fits && rest == "" && j == len(opts)-1 {
			// A lone option too long for a page: cut it here rather
			// than give it a page of its own.
			p.cut = nv.cutOption(s, &p, base, maxSeg)
			fits = true
		}
		if fits {
			if nv.hasHome {
				p.home = true
				if c := nv.measure(s, &p, base); !c.fits(maxSeg) {
					p.home = false
				}
			}
			return nv, append(dst, p)
		}

		// Not the last page: reserve More (and Back), then fill.
		p = page{lo: j, more: true, back: nv.backOn(i, false)}
		tail := suffix{nv: &nv, p: &p}
		c = base
		if rest != "" {
			p.body, rest = cut(base, rest, &tail, maxSeg)
			c.addString(p.body)
		}
		if rest == "" {
			for ; j < len(opts); j++ {
				t := c
				if j > p.lo || p.body != "" {
					t.add('\n')
				}
				t.addString(opts[j].Key)
				t.addString(". ")
				t.addString(opts[j].Label)
				withNav := t
				tail.addTo(&withNav)
				if withNav.fits(maxSeg) {
					c = t
					continue
				}
				if j == p.lo && p.body == "" {
					p.cut = nv.cutOption(s, &p, base, maxSeg)
					j++
				}
				break
			}
		}
		p.hi = j
		dst = append(dst, p)
	}
}

// cutOption returns the line of option p.lo, alone on page p with p's
// navigation, its label cut on a word boundary to fit and ended with "...".
func (nv *nav) cutOption(s *flows.Screen, p *page, base counter, maxSeg int) string {
	o := &s.Options[p.lo]
	tail := &suffix{marker: gsmEllipsis, nv: nv, p: p}
	c := base
	c.addString(o.Key)
	c.addString(". ")
	t := c
	tail.addTo(&t)
	if t.fits(maxSeg) {
		label, _ := cut(c, strings.TrimLeftFunc(o.Label, isBreak), tail, maxSeg)
		return o.Key + ". " + label + gsmEllipsis
	}
	// Not even the key fits: an absurd key, cut like any text.
	line, _ := cut(base, o.Key+". "+o.Label, tail, maxSeg)
	return line + gsmEllipsis
}

func render(s *flows.Screen, o Options, nv *nav, p *page) string {
	// Transliterate only a page it brings into GSM-7 (see Options).
	size, folding := 0, o.Transliterate
	for part := range nv.parts(s, p) {
		size += len(part)
		if folding && !foldsToGSM(part) {
			folding = false
		}
	}
	var b strings.Builder
	b.Grow(size)
	for part := range nv.parts(s, p) {
		if !folding {
			b.WriteString(part)
			continue
		}
		for _, r := range part {
			if r < utf8.RuneSelf {
				b.WriteByte(byte(r))
			} else {
				b.WriteRune(fold(r))
			}
		}
	}
	return b.String()
}

// foldsToGSM reports whether Transliterate(s) is GSM-7.
func foldsToGSM(s string) bool {
	for _, r := range s {
		if septetsOf(fold(r)) == 0 {
			return false
		}
	}
	return true
}
