package sms_test

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/channels/sms/alphabet"
)

// The GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) in code order,
// 0x00–0x7F; 0x1B is the escape to the extension table, not a character.
const basicTable = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// extensionTable maps the characters of the extension table to their code
// after the escape (§6.2.1.1).
var extensionTable = map[rune]byte{
	'\f': 0x0A, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2F,
	'[': 0x3C, '~': 0x3D, ']': 0x3E, '|': 0x40, '€': 0x65,
}

const esc = 0x1B

var basicCode = func() map[rune]byte {
	rs := []rune(basicTable)
	if len(rs) != 128 {
		panic("basic table must have 128 entries")
	}
	m := make(map[rune]byte, 127)
	for i, r := range rs {
		if i != esc {
			m[r] = byte(i)
		}
	}
	return m
}()

// refSegments is the straightforward reference: encode the text the way an
// SMSC would (septets with escapes, or UTF-16) and cut the code stream
// into parts, never ending a part on an escape or a high surrogate.
func refSegments(s string) (int, sms.Encoding) {
	var septets []byte
	gsm := true
	for _, r := range s {
		if c, ok := basicCode[r]; ok {
			septets = append(septets, c)
		} else if c, ok := extensionTable[r]; ok {
			septets = append(septets, esc, c)
		} else {
			gsm = false
			break
		}
	}
	if gsm {
		return parts(len(septets), 160, 153, func(end int) bool { return septets[end-1] == esc }), sms.GSM7
	}
	u := utf16.Encode([]rune(s))
	return parts(len(u), 70, 67, func(end int) bool { return u[end-1] >= 0xD800 && u[end-1] < 0xDC00 }), sms.UCS2
}

func parts(n, single, part int, torn func(end int) bool) int {
	if n == 0 {
		return 0
	}
	if n <= single {
		return 1
	}
	count := 0
	for i := 0; i < n; count++ {
		end := min(i+part, n)
		if end < n && torn(end) {
			end--
		}
		i = end
	}
	return count
}

func TestSeptetsTables(t *testing.T) {
	for r, code := range basicCode {
		if n, gsm := alphabet.Septets(string(r)); n != 1 || !gsm {
			t.Errorf("basic %q (0x%02X): Septets = %d, %v; want 1, true", r, code, n, gsm)
		}
	}
	for r := range extensionTable {
		if n, gsm := alphabet.Septets(string(r)); n != 2 || !gsm {
			t.Errorf("extension %q: Septets = %d, %v; want 2, true", r, n, gsm)
		}
	}
	// Everything else in the first 0x3000 code points is outside GSM-7.
	for r := rune(0); r < 0x3000; r++ {
		if _, ok := basicCode[r]; ok {
			continue
		}
		if _, ok := extensionTable[r]; ok {
			continue
		}
		if _, gsm := alphabet.Septets(string(r)); gsm {
			t.Errorf("%U %q: Septets says GSM-7", r, r)
		}
	}
}

func TestSeptets(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		gsm  bool
	}{
		{"empty", "", 0, true},
		{"ú is not GSM-7 and counts nothing", "¿Qué año? ¡Ñandú! pingüino", 25, false},
		{"the other spanish letters are basic", "¿Qué año? ¡Ñandu! pingüino", 26, true},
		{"every extension character costs two", "^{}\\[~]|€\f", 20, true},
		{"newline and carriage return are basic", "a\r\nb", 4, true},
		{"tab is not GSM-7", "a\tb", 2, false},
		{"backquote is not GSM-7", "`x`", 1, false},
		{"escape itself is not a character", "\x1b", 0, false},
		{"acute a is not GSM-7", "más", 2, false},
		{"grave a is", "à la", 4, true},
		{"capital C cedilla is, small is not", "Çç", 1, false},
		{"emoji", "ok 🙂", 3, false},
		{"euro amount", "Valor: €12,50", 14, true},
		{"invalid UTF-8", "a\xffb", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, gsm := alphabet.Septets(tt.in)
			if n != tt.n || gsm != tt.gsm {
				t.Errorf("Septets(%q) = %d, %v; want %d, %v", tt.in, n, gsm, tt.n, tt.gsm)
			}
			if want := map[bool]sms.Encoding{true: sms.GSM7, false: sms.UCS2}[tt.gsm]; sms.EncodingOf(tt.in) != want {
				t.Errorf("EncodingOf(%q) = %v, want %v", tt.in, sms.EncodingOf(tt.in), want)
			}
		})
	}
}

func TestSegments(t *testing.T) {
	a := strings.Repeat
	tests := []struct {
		name  string
		in    string
		count int
		enc   sms.Encoding
	}{
		{"empty needs no message", "", 0, sms.GSM7},
		{"one character", "a", 1, sms.GSM7},
		{"exactly 160 septets", a("a", 160), 1, sms.GSM7},
		{"161 septets", a("a", 161), 2, sms.GSM7},
		{"159 plus an extension character is 161", a("a", 159) + "€", 2, sms.GSM7},
		{"158 plus an extension character is 160", a("a", 158) + "{", 1, sms.GSM7},
		{"80 extension characters are 160 septets", a("€", 80), 1, sms.GSM7},
		{"81 extension characters", a("€", 81), 2, sms.GSM7},
		{"exactly two parts", a("a", 306), 2, sms.GSM7},
		{"one over two parts", a("a", 307), 3, sms.GSM7},
		// 152 + "€" fills the first part exactly: no tear.
		{"extension character ends part one exactly", a("a", 151) + "€" + a("a", 153), 2, sms.GSM7},
		// 152 + "€" would straddle 153|154: it moves to part two, which
		// then holds 2 + 152 septets: one too many.
		{"extension character at the boundary moves", a("a", 152) + "€" + a("a", 152), 3, sms.GSM7},
		{"extension character after the boundary", a("a", 153) + "€" + a("a", 151), 2, sms.GSM7},
		{"escape pairs across many parts", a("€", 77*3), 4, sms.GSM7},
		{"exactly 70 UCS-2", a("á", 70), 1, sms.UCS2},
		{"71 UCS-2", a("á", 71), 2, sms.UCS2},
		{"exactly two UCS-2 parts", a("á", 134), 2, sms.UCS2},
		{"one over two UCS-2 parts", a("á", 135), 3, sms.UCS2},
		{"one non-GSM character switches everything", a("a", 69) + "á", 1, sms.UCS2},
		{"and costs a message", a("a", 70) + "á", 2, sms.UCS2},
		{"35 emoji are 70 code units", a("🙂", 35), 1, sms.UCS2},
		{"36 emoji", a("🙂", 36), 2, sms.UCS2},
		{"emoji ends part one exactly", a("a", 65) + "🙂" + a("a", 67), 2, sms.UCS2},
		{"emoji at the boundary moves", a("a", 66) + "🙂" + a("a", 66), 3, sms.UCS2},
		{"emoji after the boundary", a("a", 67) + "🙂" + a("a", 65), 2, sms.UCS2},
		{"skin tone is a second emoji", "👍🏽", 1, sms.UCS2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, enc := sms.Segments(tt.in)
			if n != tt.count || enc != tt.enc {
				t.Errorf("Segments = %d, %v; want %d, %v", n, enc, tt.count, tt.enc)
			}
			if rn, renc := refSegments(tt.in); rn != tt.count || renc != tt.enc {
				t.Errorf("reference = %d, %v; the table is wrong", rn, renc)
			}
		})
	}
}

func TestEncodingString(t *testing.T) {
	if sms.GSM7.String() != "GSM-7" || sms.UCS2.String() != "UCS-2" {
		t.Errorf("String() = %q, %q", sms.GSM7, sms.UCS2)
	}
}
