package wire

import (
	"errors"
	"hash/fnv"
	"net/url"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"
)

// Field returns the single value of key ("" when absent); a field sent
// twice is refused rather than guessed at.
func Field(v url.Values, key string) (string, error) {
	switch vals := v[key]; len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], nil
	default:
		return "", &FieldError{Field: key, Reason: "sent more than once"}
	}
}

// ReadForm reads a bounded application/x-www-form-urlencoded body.
// Errors are ready for Refuse: 415, 413, or a 400 naming "body".
func ReadForm(c echo.Context, limit int64) (url.Values, error) {
	body, err := ReadBody(c, echo.MIMEApplicationForm, limit)
	if err != nil {
		return nil, err
	}
	values, err := parseForm(string(body))
	if err != nil {
		return nil, &FieldError{Field: "body", Reason: "malformed form encoding"}
	}
	return values, nil
}

// maxFastFields bounds the fields parseForm splits itself, and so what
// it allocates up front. A callback has at most a few dozen; a body with
// more goes to url.ParseQuery, which also enforces its own cap on the
// number of fields.
const maxFastFields = 64

// parseForm is url.ParseQuery (same values, and an error for the same
// bodies: a bad %-escape, or a ";" anywhere in a field) with fewer
// allocations: the map is sized up front, and the fields' one-value
// slices share one backing array. Decoding is still url.QueryUnescape's.
func parseForm(body string) (url.Values, error) {
	n := strings.Count(body, "&") + 1
	if n > maxFastFields {
		return url.ParseQuery(body)
	}
	values := make(url.Values, n)
	firsts := make([]string, n)
	for body != "" {
		var field string
		field, body, _ = strings.Cut(body, "&")
		if strings.IndexByte(field, ';') >= 0 {
			return nil, errSemicolon
		}
		if field == "" {
			continue
		}
		key, value, _ := strings.Cut(field, "=")
		key, err := unescape(key)
		if err != nil {
			return nil, err
		}
		value, err = unescape(value)
		if err != nil {
			return nil, err
		}
		if vs, ok := values[key]; ok {
			values[key] = append(vs, value)
			continue
		}
		// Capacity one: a repeated key's append copies rather than
		// overwriting the next key's value.
		firsts[0] = value
		values[key] = firsts[:1:1]
		firsts = firsts[1:]
	}
	return values, nil
}

// unescape is url.QueryUnescape, which returns s itself when it holds
// neither "%" nor "+"; IndexByte finds that out faster than its loop.
func unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// errSemicolon is url.ParseQuery's refusal of ";" as a separator.
var errSemicolon = errors.New("invalid semicolon separator in query")

// Seq turns a provider's message id into carrier.Inbound.Seq. The
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
