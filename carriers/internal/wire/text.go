package wire

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxSessionID bounds a carrier's session id: it ends up in store keys.
	MaxSessionID = 128
	// MaxServiceCode bounds a dialled code, shortcut answers included.
	MaxServiceCode = 64
	// MinScreen is the smallest screen the renderer honours; adapters
	// raise a smaller configured limit to it.
	MinScreen = 40
)

// VisibleASCII reports whether s holds only printable ASCII other than
// space ("" included): session ids and service codes end up in store keys
// and logs, where spaces and control bytes only cause trouble.
func VisibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// CleanInput checks text that reaches the engine or a log (an answer, a
// message): at most maxBytes, valid UTF-8, no control characters. It
// returns the text trimmed of surrounding spaces, which handsets and
// aggregators add and no answer means. Control characters are refused
// rather than trimmed: a carrier that sends them is broken, and a
// newline inside an answer would forge lines on the next screen.
func CleanInput(field, s string, maxBytes int) (string, error) {
	switch {
	case len(s) > maxBytes:
		return "", &FieldError{field, "longer than " + strconv.Itoa(maxBytes) + " bytes"}
	case !utf8.ValidString(s):
		return "", &FieldError{field, "not valid UTF-8"}
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", &FieldError{field, "contains control characters"}
	}
	return strings.TrimSpace(s), nil
}

// SessionID checks a carrier's session id: required, at most
// MaxSessionID bytes of VisibleASCII once trimmed.
func SessionID(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", &FieldError{field, "missing"}
	case len(s) > MaxSessionID:
		return "", &FieldError{field, "longer than " + strconv.Itoa(MaxSessionID) + " characters"}
	case !VisibleASCII(s):
		return "", &FieldError{field, "not printable ASCII"}
	}
	return s, nil
}

// ServiceCode checks a dialled code or a provider's service id: at most
// MaxServiceCode bytes of VisibleASCII once trimmed, "" allowed. It is not
// required to be a dial string: the gateway routes by exact code and
// opens the root flow for anything it does not know.
func ServiceCode(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxServiceCode || !VisibleASCII(s) {
		return "", &FieldError{field, "not a USSD code"}
	}
	return s, nil
}

// IsDialString reports whether s is what a handset dials to open a USSD
// service: "*384#", or with shortcut answers "*384*1*2#". Providers that
// send the dialled string in their message field on the first hop are
// told apart from ones that send an answer there by this test.
func IsDialString(s string) bool {
	if len(s) < 3 || len(s) > MaxServiceCode || s[0] != '*' && s[0] != '#' || s[len(s)-1] != '#' {
		return false
	}
	digits := false
	for i := 1; i < len(s)-1; i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = true
		case c == '*' || c == '#':
		default:
			return false
		}
	}
	return digits
}

// Fit makes text at most limit runes. The gateway renders within the
// limit it was given, so this is a safety net: it drops whole trailing
// lines first, and cuts the first line only if it alone is too long. A
// cut screen beats a screen the operator rejects.
func Fit(text string, limit int) string {
	limit = max(limit, 1)
	for utf8.RuneCountInString(text) > limit {
		i := strings.LastIndexByte(text, '\n')
		if i < 0 {
			n := 0
			for j := range text {
				if n == limit {
					return text[:j]
				}
				n++
			}
			return text
		}
		text = text[:i]
	}
	return text
}

// MessageText checks a text message: valid UTF-8, at most max characters,
// no control characters but line breaks. Line breaks become spaces:
// answers are read as one line, and a newline kept in an answer could
// forge lines on a later screen that quotes it. Surrounding spaces are
// trimmed.
func MessageText(name, s string, max int) (string, error) {
	switch {
	case !utf8.ValidString(s):
		return "", &FieldError{Field: name, Reason: "not valid UTF-8"}
	case utf8.RuneCountInString(s) > max:
		return "", &FieldError{Field: name, Reason: "longer than " + strconv.Itoa(max) + " characters"}
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' }):
		return "", &FieldError{Field: name, Reason: "contains control characters"}
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)), nil
}
