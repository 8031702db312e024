package alphabet

import "strings"

// Transliterate maps á í ó ú Á Í Ó Ú to a i o u A I O U and leaves every
// other character alone. Those eight are the only Spanish letters missing
// from GSM-7 (é ñ ü ¿ ¡ are in it), so the mapping keeps Spanish text in
// GSM-7 — 160 characters a message instead of 70 — at the smallest loss:
// stripping all diacritics would lose ñ and é for nothing. It expects
// precomposed (NFC) text, which is what flows and back-ends produce.
func Transliterate(s string) string {
	return strings.Map(Fold, s) // allocates only when something changes
}

// Fold is Transliterate for one character.
func Fold(r rune) rune {
	switch r {
	case 'á':
		return 'a'
	case 'í':
		return 'i'
	case 'ó':
		return 'o'
	case 'ú':
		return 'u'
	case 'Á':
		return 'A'
	case 'Í':
		return 'I'
	case 'Ó':
		return 'O'
	case 'Ú':
		return 'U'
	}
	return r
}
