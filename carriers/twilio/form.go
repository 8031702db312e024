package twilio

import (
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

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

// readForm reads the bounded form body. Errors are ready for wire.Refuse.
func readForm(c echo.Context) (url.Values, error) {
	body, err := wire.ReadBody(c, echo.MIMEApplicationForm, maxBody)
	if err != nil {
		return nil, err
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &wire.FieldError{Field: "body", Reason: "malformed form encoding"}
	}
	return values, nil
}

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

// seq turns a provider's message id into channels.Inbound.Seq. The gateway
// only compares a hop's Seq with the previous hop's, so a webhook Twilio
// retries is shown the same screen again instead of being applied twice.
// 31 bits of a hash keep it positive on every platform; a clash between a
// number's two consecutive messages is a one in two billion chance.
func seq(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32()>>1) + 1
}

// outgoing makes reply text safe to send: valid UTF-8, no control
// characters but newlines (XML 1.0 cannot carry most of them), at most
// MaxText characters (whole trailing lines dropped first).
func outgoing(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == '\r' {
			return -1
		}
		if unicode.IsControl(r) && r != '\n' {
			return ' '
		}
		return r
	}, s)
	return wire.Fit(s, MaxText)
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
