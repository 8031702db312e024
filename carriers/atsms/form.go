package atsms

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"ventanilla/carriers/internal/wire"
)

const (
	// maxBody bounds a callback body: 1600 characters of text, percent
	// encoded, and a handful of short fields.
	maxBody = 16 << 10
	// MaxText is the longest message taken or sent, in characters: ten
	// concatenated parts, which operators reassemble before AT calls us.
	MaxText = 1600
	// maxID bounds AT's message ids and linkIds; they end up in idempotency
	// keys and logs.
	maxID = 128
)

// field returns the single value of key and whether it was sent; a field
// sent twice is refused rather than guessed at.
func field(v url.Values, key string) (string, bool, error) {
	switch vals := v[key]; len(vals) {
	case 0:
		return "", false, nil
	case 1:
		return vals[0], true, nil
	default:
		return "", true, &wire.FieldError{Field: key, Reason: "sent more than once"}
	}
}

// text checks a message: valid UTF-8, at most MaxText characters, no
// control characters but line breaks. Line breaks become spaces: answers
// are read as one line, and a newline kept in an answer could forge lines
// on a later screen that quotes it. Surrounding spaces are trimmed.
func text(name, s string) (string, error) {
	switch {
	case !utf8.ValidString(s):
		return "", &wire.FieldError{Field: name, Reason: "not valid UTF-8"}
	case utf8.RuneCountInString(s) > MaxText:
		return "", &wire.FieldError{Field: name, Reason: "longer than " + strconv.Itoa(MaxText) + " characters"}
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' }):
		return "", &wire.FieldError{Field: name, Reason: "contains control characters"}
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)), nil
}

// id checks one of AT's ids: printable ASCII without spaces, bounded.
func id(name, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return "", &wire.FieldError{Field: name, Reason: "missing"}
	case len(s) > maxID || !wire.VisibleASCII(s):
		return "", &wire.FieldError{Field: name, Reason: "not an id"}
	}
	return s, nil
}
