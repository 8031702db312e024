package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// MaxBody bounds a callback body. A real hop is a few hundred bytes; the
// bound keeps a misbehaving or hostile sender from making us buffer more.
const MaxBody = 8 << 10

// ReadBody checks the request's media type (parameters such as charset
// are allowed, and any letter case; mediaType itself is lower case, as
// mime.ParseMediaType returns it) and reads at most limit bytes of its
// body. The limit holds while reading, so a chunked body without
// Content-Length cannot exceed it either. Errors are *StatusError, ready
// for Refuse.
func ReadBody(c echo.Context, mediaType string, limit int64) ([]byte, error) {
	r := c.Request()
	if !hasMediaType(r.Header.Get(echo.HeaderContentType), mediaType) {
		return nil, &StatusError{http.StatusUnsupportedMediaType, "Content-Type", "want " + mediaType}
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	if r.ContentLength >= 0 {
		body, over, err := readDeclared(r.Body, r.ContentLength, limit)
		switch {
		case over:
			return nil, tooLarge(limit)
		case err != nil:
			return nil, unreadable()
		}
		return body, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response().Writer, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge(limit)
		}
		return nil, unreadable()
	}
	return body, nil
}

// hasMediaType reports whether the Content-Type header ct names
// mediaType. The forms carriers send (the media type alone, or with
// "; charset=utf-8", in any case) are matched without parsing, which
// would cost more than the rest of reading a callback; anything else
// goes to mime.ParseMediaType.
func hasMediaType(ct, mediaType string) bool {
	if len(ct) >= len(mediaType) && foldsTo(ct[:len(mediaType)], mediaType) {
		if rest := ct[len(mediaType):]; rest == "" || foldsTo(rest, "; charset=utf-8") {
			return true
		}
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == mediaType
}

// foldsTo reports whether s is lower once its ASCII letters are lowered.
// mime.ParseMediaType accepts ASCII only in a media type, so
// strings.EqualFold, which also folds "K" (Kelvin sign) to "k", would
// accept what it refuses.
func foldsTo(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// readDeclared reads a body of declared length n (at most limit) into a
// buffer allocated once, one byte longer so that the final io.EOF needs
// no growth. net/http ends a body at its declared length; a request built
// by hand may carry more, which is read on as io.ReadAll would, up to
// limit. over reports a body longer than limit.
func readDeclared(body io.Reader, n, limit int64) (b []byte, over bool, err error) {
	b = make([]byte, 0, n+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if int64(len(b)) > limit {
			return nil, true, nil
		}
		if err == io.EOF {
			return b, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
}

// tooLarge and unreadable are built only when returned: most requests
// need neither.
func tooLarge(limit int64) *StatusError {
	return &StatusError{http.StatusRequestEntityTooLarge, "body", "larger than " + size(limit)}
}

func unreadable() *StatusError {
	return &StatusError{http.StatusBadRequest, "body", "unreadable"}
}

func size(n int64) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// DecodeJSON decodes one JSON object into v, which should be a pointer to
// a struct. Providers add fields without notice, so unknown fields are
// ignored; but a known field of the wrong type is an error naming it, as
// is a body that is not exactly one JSON object, is not UTF-8 (which
// encoding/json would silently replace), or names a field twice (which
// encoding/json would silently resolve to the last one, and other parsers
// to the first: a request that reads differently to two parsers is
// refused rather than guessed at). Errors are *FieldError.
func DecodeJSON(body []byte, v any) error {
	if !utf8.Valid(body) {
		return &FieldError{"body", "not valid UTF-8"}
	}
	if err := checkObject(body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			return &FieldError{te.Field, "want " + describe(te.Type)}
		}
		return &FieldError{"body", "not valid JSON"}
	}
	return nil
}

// checkObject walks the top level of body: one object, no repeated names.
func checkObject(body []byte) error {
	malformed := &FieldError{"body", "not valid JSON"}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return malformed
	}
	if tok != json.Delim('{') {
		return &FieldError{"body", "not a JSON object"}
	}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformed
		}
		name, _ := tok.(string)
		// encoding/json matches names case-insensitively, so "Mobile"
		// and "mobile" are the same field to it.
		fold := strings.ToLower(strings.ToUpper(name))
		if seen[fold] {
			if name != "" && len(name) <= 64 && VisibleASCII(name) {
				return &FieldError{name, "sent more than once"}
			}
			return &FieldError{"body", "a field sent more than once"}
		}
		seen[fold] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return malformed
		}
	}
	if _, err := dec.Token(); err != nil {
		return malformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return &FieldError{"body", "more than one JSON value"}
	}
	return nil
}

// describe names the JSON a Go type takes, for "want …".
func describe(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "another type"
}

// JSON answers 200 with v as JSON. HTML escaping is off: screens go to
// handsets, not into web pages, and "&" sent as "\u0026" costs bytes and
// trips naive parsers on the provider's side.
func JSON(c echo.Context, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, buf.Bytes())
}
