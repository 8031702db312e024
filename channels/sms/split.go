package sms

import (
	"strings"
	"unicode"
)

// Ellipsis is the default marker that ends a text cut to fit. Where the
// cut text is GSM-7 it is written "..." instead: "…" is not in GSM-7, and
// one such character would switch the whole message to UCS-2 and cost
// more than half of its room.
const Ellipsis = "…"

// gsmEllipsis stands in for Ellipsis in GSM-7 text.
const gsmEllipsis = "..."

// Fit returns s if it fits in maxSegments concatenated segments, for
// carriers that concatenate. Otherwise it returns the longest prefix of s
// that ends at a word boundary and still fits once the marker is added,
// followed by the marker: Ellipsis, written "..." when the result is
// GSM-7. A word is cut only when it alone does not fit. White space at the
// ends of a text that had to be cut is dropped. maxSegments below 1 counts
// as 1.
func Fit(s string, maxSegments int) string {
	maxSegments = max(maxSegments, 1)
	text, ok := fitsUncut(s, maxSegments)
	if ok {
		return text
	}
	if text == "" {
		return ""
	}
	piece, _ := cut(counter{}, text, &suffix{marker: gsmEllipsis}, maxSegments)
	if EncodingOf(piece) == GSM7 {
		return piece + gsmEllipsis
	}
	// The message is UCS-2 anyway: the one-unit "…" leaves more room.
	return FitWith(text, maxSegments, Ellipsis)
}

// FitWith is Fit with a marker of the caller's choosing (a localised
// "(sigue)", or "" for none), used as given. A marker too long to fit with
// any text is dropped: the result never needs more than maxSegments.
func FitWith(s string, maxSegments int, marker string) string {
	maxSegments = max(maxSegments, 1)
	text, ok := fitsUncut(s, maxSegments)
	if ok {
		return text
	}
	if text == "" {
		return ""
	}
	piece, _ := cut(counter{}, text, &suffix{marker: marker}, maxSegments)
	var c counter
	c.addString(piece)
	c.addString(marker)
	if !c.fits(maxSegments) {
		piece, _ = cut(counter{}, text, nil, maxSegments)
		return piece
	}
	return piece + marker
}

// fitsUncut returns s and true when s fits maxSegments as it is; s trimmed
// and true when the white space at its ends was all that did not fit; and
// s trimmed and false when it must be cut.
func fitsUncut(s string, maxSegments int) (text string, fits bool) {
	var c counter
	c.addString(s)
	if c.fits(maxSegments) {
		return s, true
	}
	text = strings.TrimFunc(s, isBreak)
	c = counter{}
	c.addString(text)
	return text, c.fits(maxSegments)
}

// cut returns the longest prefix of text that ends at a word boundary and
// fits maxSegments between base and tail (nil: nothing follows), and the
// text after it with the white space at the cut dropped. When the first
// word alone does not fit, the word is cut between characters, but not
// where that would tear what a reader sees as one character (see canCut).
// When not even one character fits, the first character is returned all
// the same, so that callers always make progress. text must not start
// with a break.
//
// Adding text never lowers a segment count (parts are packed greedily in
// order, which is optimal), so the scan stops at the first cut that does
// not fit.
func cut(base counter, text string, tail *suffix, maxSegments int) (piece, rest string) {
	c := base
	word, hard := -1, -1 // byte offsets of the best cut at a break and inside a word
	inBreak := false
	var prev rune
	for i, r := range text {
		brk := isBreak(r)
		if i > 0 && !inBreak && (brk || word < 0 && canCut(prev, r)) {
			t := c
			tail.addTo(&t)
			if !t.fits(maxSegments) {
				return cutAt(text, word, hard)
			}
			if brk {
				word = i
			} else {
				hard = i
			}
		}
		inBreak = brk
		c.add(r)
		prev = r
	}
	tail.addTo(&c)
	if c.fits(maxSegments) {
		return text, ""
	}
	return cutAt(text, word, hard)
}

func cutAt(text string, word, hard int) (piece, rest string) {
	switch {
	case word > 0:
		return text[:word], strings.TrimLeftFunc(text[word:], isBreak)
	case hard > 0:
		return text[:hard], text[hard:]
	}
	for i := range text {
		if i > 0 {
			return text[:i], strings.TrimLeftFunc(text[i:], isBreak)
		}
	}
	return text, ""
}

// canCut reports whether text may be cut inside a word between prev and
// r without tearing a character a reader sees as one.
func canCut(prev, r rune) bool {
	switch {
	case prev == zwj, r == zwj:
		return false
	case unicode.In(r, unicode.Mn, unicode.Me):
		return false
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF: // variation selectors
		return false
	case r >= 0x1F3FB && r <= 0x1F3FF: // skin tone modifiers
		return false
	case r >= 0xE0020 && r <= 0xE007F: // tag characters (subdivision flags)
		return false
	case isRegional(prev) && isRegional(r): // a flag is two regional indicators
		return false
	}
	return true
}

// suffix is what follows a piece being cut: a marker, then, on a page,
// the page's navigation line.
type suffix struct {
	marker string
	nv     *nav
	p      *page // nil: no navigation line
}

func (x *suffix) addTo(c *counter) {
	if x == nil {
		return
	}
	c.addString(x.marker)
	if x.p != nil {
		x.nv.addLine(c, x.p)
	}
}

const zwj = '\u200d'

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// isBreak reports whether text may be cut at r: any white space except the
// no-break spaces, which authors use to keep "12 345" or "Art. 5" together.
func isBreak(r rune) bool {
	return unicode.IsSpace(r) && r != '\u00a0' && r != '\u2007' && r != '\u202f'
}
