package twilio

import (
	"strings"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
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
func chatText(rep carrier.Reply) string {
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
