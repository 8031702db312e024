package wire

import (
	"hash/fnv"
	"net/url"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"
)

// ReadForm reads a bounded application/x-www-form-urlencoded body.
// Errors are ready for Refuse: 415, 413, or a 400 naming "body".
func ReadForm(c echo.Context, limit int64) (url.Values, error) {
	body, err := ReadBody(c, echo.MIMEApplicationForm, limit)
	if err != nil {
		return nil, err
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &FieldError{Field: "body", Reason: "malformed form encoding"}
	}
	return values, nil
}

// Seq turns a provider's message id into channels.Inbound.Seq. The
// gateway only compares a hop's Seq with the previous hop's, so a webhook
// the provider sends again is shown the same screen instead of being
// applied twice. 31 bits of a hash keep it positive on every platform; a
// clash between a number's two consecutive messages is a one in two
// billion chance.
func Seq(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32()>>1) + 1
}

// Outgoing makes text safe to send as an SMS or chat message: valid
// UTF-8, no control characters but newlines (XML 1.0, which TwiML is,
// cannot carry most of them), at most max characters with whole trailing
// lines dropped first.
func Outgoing(s string, max int) string {
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
	return Fit(s, max)
}
