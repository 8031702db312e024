package sms

// Encoding is the data coding an SMS will be sent in.
type Encoding uint8

const (
	// GSM7 is the GSM 7-bit default alphabet with its extension table.
	GSM7 Encoding = iota
	// UCS2 is 16-bit text; carriers send UTF-16, so characters outside the
	// BMP (emoji) take two code units.
	UCS2
)

func (e Encoding) String() string {
	if e == UCS2 {
		return "UCS-2"
	}
	return "GSM-7"
}

// Segment sizes (3GPP TS 23.040): a lone SMS carries 140 octets; a part of
// a concatenated one loses 6 of them to the user data header.
const (
	GSM7Single = 160 // septets in a lone message
	GSM7Part   = 153 // septets per part of a concatenated message
	UCS2Single = 70  // UTF-16 code units in a lone message
	UCS2Part   = 67  // UTF-16 code units per part of a concatenated message
)

// asciiSeptets holds the septets each ASCII character costs in GSM-7: 1 in
// the basic table, 2 in the extension table (escape + code), 0 in neither.
// Backquote, tab and the other controls except LF, CR and FF are missing.
var asciiSeptets = func() (t [128]uint8) {
	for c := ' '; c <= '~'; c++ {
		t[c] = 1
	}
	t['\n'], t['\r'] = 1, 1
	t['`'] = 0
	for _, c := range "^{}\\[~]|\f" {
		t[c] = 2
	}
	return t
}()

// septetsOf returns the septets r costs in GSM-7, or 0 when r is in
// neither the basic nor the extension table.
func septetsOf(r rune) int {
	if r < 0x80 {
		return int(asciiSeptets[r])
	}
	switch r {
	case '£', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', 'Ø', 'ø', 'Å', 'å',
		'Δ', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ',
		'Æ', 'æ', 'ß', 'É', '¤', '¡', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
		'¿', 'ä', 'ö', 'ñ', 'ü', 'à':
		return 1
	case '€':
		return 2
	}
	return 0
}

// Septets returns the GSM-7 septets s takes (extension characters count
// two) and whether every character of s is in GSM-7. When gsm is false, n
// counts only the characters that are.
func Septets(s string) (n int, gsm bool) {
	gsm = true
	for _, r := range s {
		w := septetsOf(r)
		if w == 0 {
			gsm = false
		}
		n += w
	}
	return n, gsm
}

// EncodingOf returns the encoding s needs: GSM7 when every character is in
// the GSM-7 tables, UCS2 otherwise — one character outside them switches
// the whole message.
func EncodingOf(s string) Encoding {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 {
			// Non-ASCII from here on: decode runes.
			for _, r := range s[i:] {
				if septetsOf(r) == 0 {
					return UCS2
				}
			}
			return GSM7
		} else if asciiSeptets[c] == 0 {
			return UCS2
		}
	}
	return GSM7
}

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
