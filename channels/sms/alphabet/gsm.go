package alphabet

// Encoding is the data coding an SMS will be sent in.
type Encoding uint8

const (
	// GSM7 is the GSM 7-bit default alphabet with its extension table.
	GSM7 Encoding = iota
	// UCS2 is 16-bit text; carriers send UTF-16, so characters outside the
	// BMP (emoji) take two code units.
	UCS2
)

// String names the encoding ("GSM-7", "UCS-2") for logs and messages that
// print an Encoding with %v.
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

// SeptetsOf returns the septets r costs in GSM-7, or 0 when r is in
// neither the basic nor the extension table.
func SeptetsOf(r rune) int {
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
		w := SeptetsOf(r)
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
				if SeptetsOf(r) == 0 {
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
