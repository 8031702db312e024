package ussd

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// DefaultLimit is the characters one USSD screen can carry (see
// carrier.DefaultUSSDLimit, where carrier adapters read it).
const DefaultLimit = carrier.DefaultUSSDLimit

// minLimit is the smallest budget honoured: below it a page could not hold
// a line of text next to the "more" and "back" lines.
const minLimit = 40

// page is one laid-out page. body is a substring of the screen text, so a
// layout costs no string allocations.
type page struct {
	body   string
	lo, hi int // options [lo, hi) go on this page
	optCap int // max runes of an option line (cuts only an option longer than an empty page)
	back   bool
	more   bool
	home   bool
}

// navLine is one resolved navigation line.
type navLine struct {
	key, label string
	n          int // runes of the rendered line, after the cap
}

type nav struct {
	back, more, home navLine
	hasHome          bool
	firstBack        bool // Back shown on page 0
	end              bool
}

// Paginate lays s out as pages of at most limit runes each (limit < 40 is
// treated as 40). Runes are counted over the whole page, a newline between
// lines counting one. A page reads:
//
//	body text (may itself contain newlines)
//	1. Label      one line per option: Key + ". " + Label
//	98. Más       More: only when the screen needs several pages
//	0. Atrás      Back
//	00. Inicio    Home
//
// If everything fits on one page, that page is the body, the options, then
// Back and Home when the screen has them. Otherwise the body is split on
// white space (a word is cut only when it alone is longer than a page's room
// for text; no-break spaces never split), each page holds whole options,
// every page but the last shows More, pages after the first show Back
// (meaning previous page), the first shows Back only when the screen has
// one, and Home goes on the last page only when it fits: it is dropped
// rather than pushed onto a page of its own. White space at the ends of the
// body and at split points is dropped.
//
// Navigation lines use the screen's own Nav keys and labels; an Option
// counts as present when its Key is non-empty. Paging can need keys the
// screen does not offer, so More (when Nav.More is empty) and Back on later
// pages (when Nav.Back is empty) fall back to "98"/"0" labelled by Locale
// ("en": More/Back, anything else: Más/Atrás). Each navigation line is cut
// to a quarter of the limit so that overlong labels cannot starve a page,
// and an option line longer than an empty page — only absurd labels or
// limits cause that — is cut too: the limit is a hard protocol limit.
//
// End screens show no options and no navigation. A body too long for one
// page is paged all the same (More and Back on every page but the last,
// the last page bare), so nothing is lost: the engine must then keep the
// session open until the citizen reaches the last page, and end it there.
func Paginate(s *flows.Screen, limit int) []string {
	var buf [8]page // a composed menu's part of 20 options takes ~5 pages
	nv, pages := layout(s, limit, buf[:0])
	out := make([]string, len(pages))
	for i := range pages {
		out[i] = render(s, &nv, &pages[i])
	}
	return out
}

// Render returns page s.Page of Paginate (clamped into range) and how many
// pages the screen has.
func Render(s *flows.Screen, limit int) (text string, pages int) {
	var buf [8]page
	nv, ps := layout(s, limit, buf[:0])
	i := min(max(s.Page, 0), len(ps)-1)
	return render(s, &nv, &ps[i]), len(ps)
}

// Pages returns how many pages s needs at limit; the engine uses it to know
// whether the More key is valid on the current page.
func Pages(s *flows.Screen, limit int) int {
	var buf [8]page
	_, ps := layout(s, limit, buf[:0])
	return len(ps)
}

func resolveNav(s *flows.Screen, limit int) nav {
	capN := limit / 4
	backLabel, moreLabel := "Atrás", "Más"
	if strings.HasPrefix(s.Locale, "en") {
		backLabel, moreLabel = "Back", "More"
	}
	nv := nav{end: s.End}
	if s.Nav.Back.Key != "" {
		nv.back = mkNav(s.Nav.Back.Key, s.Nav.Back.Label, capN)
		nv.firstBack = !s.End
	} else if s.Nav.Prev.Key != "" {
		nv.back = mkNav(s.Nav.Prev.Key, s.Nav.Prev.Label, capN)
	} else {
		nv.back = mkNav("0", backLabel, capN)
	}
	if s.Nav.More.Key != "" {
		nv.more = mkNav(s.Nav.More.Key, s.Nav.More.Label, capN)
	} else {
		nv.more = mkNav("98", moreLabel, capN)
	}
	if s.Nav.Home.Key != "" && !s.End {
		nv.home = mkNav(s.Nav.Home.Key, s.Nav.Home.Label, capN)
		nv.hasHome = true
	}
	return nv
}

func mkNav(key, label string, capN int) navLine {
	return navLine{key: key, label: label, n: min(lineLen(key, label), capN)}
}

func lineLen(key, label string) int {
	return utf8.RuneCountInString(key) + 2 + utf8.RuneCountInString(label)
}

// optLen is lineLen of an option, from the count it may carry.
func optLen(o *flows.Option) int { return o.Runes() + 2 }

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

// layout computes the pages of s, appending to dst. It is greedy: each page
// first checks whether all that remains fits as the last page (no More);
// if not it reserves More (and Back) and fills the rest with body, then
// with as many whole options as fit.
func layout(s *flows.Screen, limit int, dst []page) (nav, []page) {
	limit = max(limit, minLimit)
	nv := resolveNav(s, limit)
	opts := s.Options
	if s.End {
		opts = nil
	}
	rest := strings.TrimFunc(s.Text, isBreak)
	j := 0
	for i := 0; ; i++ {
		// Does everything left fit as the last page?
		back := nv.backOn(i, true)
		// Capping each option at the room of an otherwise empty page only
		// matters for a lone over-long option, which then ends the screen
		// here instead of needing a page of its own.
		optCap := limit
		sum, count := utf8.RuneCountInString(rest), 0
		if rest != "" {
			count = 1
		}
		if back {
			sum += nv.back.n
			count++
			optCap -= nv.back.n + 1
		}
		fits := total(sum, count) <= limit
		for k := j; k < len(opts); k++ {
			if !fits {
				// Sums only grow: stop counting a long menu (the national
				// one lists every institution's entries) at the first
				// line past the page, so that a layout stays linear.
				break
			}
			sum += min(optLen(&opts[k]), optCap)
			count++
			fits = total(sum, count) <= limit
		}
		if fits {
			p := page{body: rest, lo: j, hi: len(opts), optCap: optCap, back: back}
			if nv.hasHome && total(sum+nv.home.n, count+1) <= limit {
				p.home = true
			}
			return nv, append(dst, p)
		}

		// Not the last page: reserve More and Back, then fill.
		back = nv.backOn(i, false)
		navCost := nv.more.n // nav lines plus the newlines between them
		if back {
			navCost += 1 + nv.back.n
		}
		// room for a content line when the page holds sum runes in count
		// lines: each content line costs its runes plus one newline.
		room := func() int { return limit - navCost - sum - count - 1 }
		p := page{lo: j, optCap: limit - navCost - 1, back: back, more: true}
		sum, count = 0, 0
		if rest != "" {
			p.body, rest = splitBody(rest, room())
			sum, count = utf8.RuneCountInString(p.body), 1
		}
		if rest == "" {
			for j < len(opts) {
				n := optLen(&opts[j])
				r := room()
				if n > r && count > 0 {
					break
				}
				sum += min(n, r)
				count++
				j++
			}
		}
		p.hi = j
		dst = append(dst, p)
	}
}

// total is the rune length of count lines holding sum runes.
func total(sum, count int) int {
	if count == 0 {
		return 0
	}
	return sum + count - 1
}

// splitBody returns the longest prefix of text that ends at a word boundary
// and has at most room runes, and what is left after it (whitespace at the
// split dropped). If the first word alone is longer than room, it is cut
// at room runes. text must not start with a break; room must be ≥ 1.
func splitBody(text string, room int) (piece, rest string) {
	if utf8.RuneCountInString(text) <= room {
		return text, ""
	}
	lastSpace, cut, n := -1, len(text), 0
	for i, r := range text {
		if n > room {
			break
		}
		if n == room {
			cut = i
		}
		if isBreak(r) {
			lastSpace = i
		}
		n++
	}
	if lastSpace > 0 {
		return strings.TrimRightFunc(text[:lastSpace], isBreak),
			strings.TrimLeftFunc(text[lastSpace:], isBreak)
	}
	return text[:cut], strings.TrimLeftFunc(text[cut:], isBreak)
}

// isBreak reports whether the body may be split at r: any white space
// except the no-break spaces, which authors use to keep "12 345" or
// "Art. 5" on one line.
func isBreak(r rune) bool {
	return unicode.IsSpace(r) && r != '\u00a0' && r != '\u2007' && r != '\u202f'
}

func render(s *flows.Screen, nv *nav, p *page) string {
	var b strings.Builder
	size := len(p.body) + 3*8 // nav lines are short; Grow is only a hint
	for _, o := range s.Options[p.lo:p.hi] {
		size += len(o.Key) + 3 + len(o.Label)
	}
	b.Grow(size)
	first := true
	sep := func() {
		if !first {
			b.WriteByte('\n')
		}
		first = false
	}
	if p.body != "" {
		sep()
		b.WriteString(p.body)
	}
	for i := p.lo; i < p.hi; i++ {
		sep()
		o := &s.Options[i]
		writeLine(&b, o.Key, o.Label, optLen(o), p.optCap)
	}
	if p.more {
		sep()
		writeLine(&b, nv.more.key, nv.more.label, lineLen(nv.more.key, nv.more.label), nv.more.n)
	}
	if p.back {
		sep()
		writeLine(&b, nv.back.key, nv.back.label, lineLen(nv.back.key, nv.back.label), nv.back.n)
	}
	if p.home {
		sep()
		writeLine(&b, nv.home.key, nv.home.label, lineLen(nv.home.key, nv.home.label), nv.home.n)
	}
	return b.String()
}

// writeLine writes key + ". " + label, n runes, cut to at most limit runes.
func writeLine(b *strings.Builder, key, label string, n, limit int) {
	if n <= limit {
		b.WriteString(key)
		b.WriteString(". ")
		b.WriteString(label)
		return
	}
	n = 0
	for _, part := range [...]string{key, ". ", label} {
		for _, r := range part {
			if n == limit {
				return
			}
			b.WriteRune(r)
			n++
		}
	}
}
