package kannel

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/sms/alphabet"
)

// Kannel's data codings (%c, X-Kannel-Coding, the sendsms coding field).
const (
	codingGSM7 = 0
	codingUCS2 = 2
)

// codingFor is the coding a text must travel in. Kannel sends coding 0
// through the GSM-7 alphabet and turns every character outside it into
// "?" (á í ó ú included: "Opción" arrives as "Opci?n"), so one such
// character makes the whole message UCS-2.
func codingFor(text string) int {
	if alphabet.EncodingOf(text) == alphabet.GSM7 {
		return codingGSM7
	}
	return codingUCS2
}

// writeText answers smsbox with the message to send back. The body is
// UTF-8 and says so: smsbox converts it from that charset to what the
// coding needs. X-Kannel-Coding and X-Kannel-Meta-Data only take effect
// with accept-x-kannel-headers = true in the sms-service.
func writeText(c echo.Context, text string, coding int, meta string) error {
	h := c.Response().Header()
	h.Set("X-Kannel-Coding", strconv.Itoa(coding))
	if meta != "" {
		h.Set("X-Kannel-Meta-Data", meta)
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(text))
}

// writeNothing answers "send no reply": an empty body, which smsbox drops
// only with omit-empty = true in the sms-service (otherwise it sends its
// reply-emptymessage text).
func writeNothing(c echo.Context) error {
	return c.NoContent(http.StatusAccepted)
}

// fit makes text at most limit units long as measured by size. The
// gateway renders within the limit it was given, so this is a safety net:
// it drops whole trailing lines first, and cuts the first line only if it
// alone is too long. A cut screen beats one the operator rejects or
// splits into two messages.
func fit(text string, limit int, size func(string) int) string {
	limit = max(limit, 1)
	for size(text) > limit {
		i := strings.LastIndexByte(text, '\n')
		if i < 0 {
			// Cut rune by rune from the end: sizes are not additive
			// per byte, and screens are short.
			for size(text) > limit {
				_, n := utf8.DecodeLastRuneInString(text)
				text = text[:len(text)-n]
			}
			return text
		}
		text = text[:i]
	}
	return text
}

// septets is what a GSM-7 text costs (extension characters count two).
func septets(s string) int {
	n, _ := alphabet.Septets(s)
	return n
}

// utf16Units is what a UCS-2 text costs: one unit a character, two for
// one outside the BMP.
func utf16Units(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}
