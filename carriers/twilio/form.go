package twilio

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"ventanilla/carriers/internal/wire"
	"ventanilla/channels"
)

const (
	// maxBody bounds a webhook body: 1600 characters of text, percent
	// encoded, plus media URLs and Twilio's other fields.
	maxBody = 16 << 10
	// MaxText is the longest message body Twilio takes or sends, in
	// characters (error 14103).
	MaxText = 1600
	// sidLen is a Twilio SID: two letters and 32 hex digits.
	sidLen = 34
)

// field returns the single value of key ("" when absent); a field sent
// twice is refused rather than guessed at.
func field(v url.Values, key string) (string, error) {
	switch vals := v[key]; len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], nil
	default:
		return "", &wire.FieldError{Field: key, Reason: "sent more than once"}
	}
}

// sid checks a Twilio SID with the given two-letter prefixes (any when
// none): the ids end up in store keys and logs.
func sid(name, s string, prefixes ...string) (string, error) {
	switch {
	case s == "":
		return "", &wire.FieldError{Field: name, Reason: "missing"}
	case len(s) != sidLen || !isHex(s[2:]) || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z':
		return "", &wire.FieldError{Field: name, Reason: "not a Twilio SID"}
	}
	if len(prefixes) == 0 {
		return s, nil
	}
	for _, p := range prefixes {
		if s[:2] == p {
			return s, nil
		}
	}
	return "", &wire.FieldError{Field: name, Reason: "not a Twilio SID"}
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// text checks a message body: valid UTF-8, at most MaxText characters, no
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

// address splits a Twilio address into its channel ("" for SMS,
// "whatsapp") and the number or short code.
func address(name, s string) (channel, addr string, err error) {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if s[:i] != "whatsapp" {
			return "", "", &wire.FieldError{Field: name, Reason: "unsupported channel address"}
		}
		channel, s = s[:i], s[i+1:]
	}
	if s == "" {
		return "", "", &wire.FieldError{Field: name, Reason: "missing"}
	}
	return channel, s, nil
}

// chatText is a chat reply as one message: WhatsApp through TwiML has no
// buttons, so each becomes a line "Data. Label" the citizen can type.
func chatText(rep channels.Reply) string {
	var b strings.Builder
	b.WriteString(rep.Text)
	for _, row := range rep.Buttons {
		for _, btn := range row {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(btn.Data)
			b.WriteString(". ")
			b.WriteString(btn.Label)
		}
	}
	return b.String()
}
