package kannel

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/encoding/charmap"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
)

// Query is the query string the sms-service get-url must carry, after the
// adapter's URL: get-url = "http://gw:8080/sms/kannel?" + Query. %b is the
// message as it arrived, URL-encoded; %a would squeeze blanks and split
// UCS-2 text at 0x20 octets. For a post-url leave text=%b out: the message
// is then the request body.
const Query = "from=%p&to=%P&text=%b&coding=%c&charset=%C&smsc=%i&meta=%D"

// Bounds on what one smsbox call may carry. A real call is a few hundred
// bytes; the limits only stop abuse.
const (
	maxQuery   = 8 << 10
	maxAddress = 64 // receiver (short code, USSD code) and smsc id
	maxCharset = 32
	maxMeta    = 1 << 10
)

// Request is one smsbox call as the parsers read it: the query (and form)
// fields, and for a post-url call the message body with the charset its
// Content-Type named. It is built by the HTTP handlers, or by hand in
// tools and fuzz targets.
type Request struct {
	Fields url.Values
	// HasBody says the message came as a text/plain body (post-url)
	// rather than in the text field.
	HasBody     bool
	Body        []byte
	BodyCharset string
}

// FieldError says which field of the call was rejected and why (the
// carriers' shared type, under a name callers outside carriers/ can use).
// Its text is what the 400 response says: it never repeats the value.
type FieldError = wire.FieldError

// readRequest reads the call, bounded: GET (fields in the query), POST of
// a form (fields in the query and the form), or POST text/plain as
// smsbox's post-url sends it (fields in the query, message in the body).
func readRequest(c echo.Context) (Request, error) {
	r := c.Request()
	if len(r.URL.RawQuery) > maxQuery {
		return Request{}, &wire.StatusError{Status: http.StatusRequestURITooLong, Field: "query", Reason: "longer than 8 KiB"}
	}
	fields, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Request{}, &wire.StatusError{Status: http.StatusBadRequest, Field: "query", Reason: "malformed encoding"}
	}
	req := Request{Fields: fields}
	if r.Method != http.MethodPost {
		return req, nil
	}

	mt, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || (mt != echo.MIMEApplicationForm && mt != echo.MIMETextPlain) {
		// application/octet-stream is what post-url sends for 8-bit
		// binary messages, which are not text a citizen typed.
		return Request{}, &wire.StatusError{Status: http.StatusUnsupportedMediaType,
			Field: "Content-Type", Reason: "want " + echo.MIMEApplicationForm + " or " + echo.MIMETextPlain}
	}
	// wire.ReadBody takes one media type; smsbox may send either.
	body, err := wire.ReadBody(c, mt, wire.MaxBody)
	if err != nil {
		return Request{}, err
	}
	if mt == echo.MIMETextPlain {
		req.HasBody, req.Body, req.BodyCharset = true, body, params["charset"]
		return req, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Request{}, &wire.StatusError{Status: http.StatusBadRequest, Field: "body", Reason: "malformed form encoding"}
	}
	for k, vs := range form {
		// A field in both the query and the form is "sent more than
		// once" for field(): better refused than guessed at.
		fields[k] = append(fields[k], vs...)
	}
	return req, nil
}

// field returns the single value of key ("" when absent).
func field(v url.Values, key string) (string, error) {
	switch vals := v[key]; len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], nil
	default:
		return "", &FieldError{Field: key, Reason: "sent more than once"}
	}
}

// address reads an identifier Kannel copies from the SMSC (receiver, smsc
// id): it ends up in routes and logs, where spaces and controls only
// cause trouble.
func address(v url.Values, key string, required bool) (string, error) {
	s, err := field(v, key)
	switch {
	case err != nil:
		return "", err
	case s == "" && required:
		return "", &FieldError{Field: key, Reason: "missing"}
	case len(s) > maxAddress:
		return "", &FieldError{Field: key, Reason: "longer than 64 characters"}
	case !wire.VisibleASCII(s):
		return "", &FieldError{Field: key, Reason: "not printable ASCII"}
	}
	return s, nil
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

// message returns the citizen's text as UTF-8, decoded from the charset
// Kannel says it is in. In Kannel 1.4 a 7-bit message reaches the
// application as UTF-8 (%C is "UTF-8") and a UCS-2 one as raw UTF-16BE
// (%c 2, %C "UTF-16BE") unless smsbox's mo-recode turned it into UTF-8; an
// sms-service alt-charset, or an older Kannel, may name a Latin charset.
// 8-bit (coding 1) messages are binary, not text.
func message(req Request) (string, error) {
	coding, err := field(req.Fields, "coding")
	if err != nil {
		return "", err
	}
	charset, err := field(req.Fields, "charset")
	if err != nil {
		return "", err
	}
	text, err := field(req.Fields, "text")
	if err != nil {
		return "", err
	}
	raw := []byte(text)
	if req.HasBody {
		if _, ok := req.Fields["text"]; ok {
			return "", &FieldError{Field: "text", Reason: "sent both in the query and as the body"}
		}
		raw = req.Body
		if req.BodyCharset != "" {
			// The Content-Type describes the bytes at hand; %C may be
			// stale after an alt-charset conversion.
			charset = req.BodyCharset
		}
	}
	if len(charset) > maxCharset {
		return "", &FieldError{Field: "charset", Reason: "longer than 32 characters"}
	}
	switch coding {
	case "", "0":
		if charset == "" {
			charset = "UTF-8"
		}
	case "2":
		if charset == "" {
			charset = "UTF-16BE"
		}
	case "1":
		return "", &FieldError{Field: "coding", Reason: "8-bit binary messages are not text"}
	default:
		return "", &FieldError{Field: "coding", Reason: "not 0, 1 or 2"}
	}
	return decode(raw, charset)
}

// decode turns raw into UTF-8 from charset (a name Kannel or iconv uses).
func decode(raw []byte, charset string) (string, error) {
	switch strings.ToUpper(charset) {
	case "UTF-8", "UTF8":
		if !utf8.Valid(raw) {
			return "", &FieldError{Field: "text", Reason: "not valid UTF-8"}
		}
		return string(raw), nil
	case "UTF-16BE", "UCS-2", "UCS-2BE", "UCS2":
		return utf16BE(raw)
	case "ISO-8859-1", "ISO8859-1", "LATIN1":
		return charmap.ISO8859_1.NewDecoder().String(string(raw))
	case "WINDOWS-1252", "CP1252":
		return charmap.Windows1252.NewDecoder().String(string(raw))
	}
	return "", &FieldError{Field: "charset", Reason: "unsupported (want UTF-8, UTF-16BE, ISO-8859-1 or WINDOWS-1252)"}
}

// utf16BE decodes big-endian UTF-16, refusing odd lengths and unpaired
// surrogates rather than smuggling U+FFFD into a citizen's answer.
func utf16BE(raw []byte) (string, error) {
	if len(raw)%2 != 0 {
		return "", &FieldError{Field: "text", Reason: "not valid UTF-16 (odd length)"}
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		switch {
		case utf16.IsSurrogate(u):
			if i+1 >= len(units) {
				return "", &FieldError{Field: "text", Reason: "not valid UTF-16 (unpaired surrogate)"}
			}
			r := utf16.DecodeRune(u, rune(units[i+1]))
			if r == utf8.RuneError {
				return "", &FieldError{Field: "text", Reason: "not valid UTF-16 (unpaired surrogate)"}
			}
			b.WriteRune(r)
			i++
		default:
			b.WriteRune(u)
		}
	}
	return b.String(), nil
}
