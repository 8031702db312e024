package sms

import "github.com/ventanilla-gob/ventanilla/channels/sms/alphabet"

// The GSM-7 alphabet lives in channels/sms/alphabet, a leaf that carrier
// adapters use without the renderer (which depends on the engine).

// Encoding is the data coding an SMS will be sent in.
type Encoding = alphabet.Encoding

const (
	GSM7 = alphabet.GSM7
	UCS2 = alphabet.UCS2

	GSM7Single = alphabet.GSM7Single
	GSM7Part   = alphabet.GSM7Part
	UCS2Single = alphabet.UCS2Single
	UCS2Part   = alphabet.UCS2Part
)

// EncodingOf returns the encoding s needs; see alphabet.EncodingOf.
func EncodingOf(s string) Encoding { return alphabet.EncodingOf(s) }

// Transliterate folds á í ó ú Á Í Ó Ú into GSM-7; see alphabet.Transliterate.
func Transliterate(s string) string { return alphabet.Transliterate(s) }

func septetsOf(r rune) int { return alphabet.SeptetsOf(r) }

func fold(r rune) rune { return alphabet.Fold(r) }

// Segments returns how many SMS s needs and in which encoding. A message
// that fits a lone SMS (160 septets / 70 code units) is one; a longer one
// is sent as parts of 153 septets / 67 code units, and a part never ends
// in half a character: an extension character (escape + code) or a
// surrogate pair that would straddle a boundary starts the next part. The
// empty text needs no message: 0.
func Segments(s string) (count int, enc Encoding) {
	var c counter
	c.addString(s)
	return c.segments()
}

// counter accumulates what a text costs in both encodings at once, so that
// layouts can grow a message piece by piece and ask after each piece how
// many segments it needs. It is a small value: copy it to try an addition.
type counter struct {
	septets, units    int // totals, for the lone-message case
	gsmParts, gsmFill int // concatenated GSM-7: parts started, septets in the last
	ucsParts, ucsFill int // concatenated UCS-2: likewise in code units
	nonGSM            bool
	translit          bool // count as if Transliterate had been applied
}

func (c *counter) add(r rune) {
	if c.translit {
		r = fold(r)
	}
	if w := septetsOf(r); w == 0 {
		c.nonGSM = true
	} else if !c.nonGSM {
		// Once the text is UCS-2 the GSM-7 figures are never read again.
		c.septets += w
		pack(&c.gsmParts, &c.gsmFill, w, GSM7Part)
	}
	u := 1
	if r > 0xFFFF {
		u = 2
	}
	c.units += u
	pack(&c.ucsParts, &c.ucsFill, u, UCS2Part)
}

// pack puts an indivisible character of w units into the last part, or
// starts a new part when it does not fit whole.
func pack(parts, fill *int, w, size int) {
	if *parts == 0 || *fill+w > size {
		*parts++
		*fill = w
		return
	}
	*fill += w
}

func (c *counter) addString(s string) {
	for _, r := range s {
		c.add(r)
	}
}

func (c *counter) segments() (int, Encoding) {
	switch {
	case c.units == 0:
		return 0, GSM7
	case !c.nonGSM && c.septets <= GSM7Single:
		return 1, GSM7
	case !c.nonGSM:
		return c.gsmParts, GSM7
	case c.units <= UCS2Single:
		return 1, UCS2
	default:
		return c.ucsParts, UCS2
	}
}

func (c *counter) fits(maxSegments int) bool {
	n, _ := c.segments()
	return n <= maxSegments
}
