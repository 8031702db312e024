package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// NewHandler returns a slog.Handler that removes personal data from every
// record before passing it to inner, as a safety net for a value logged
// without its redacting type:
//
//   - attributes whose key names personal data or a secret ("phone",
//     "msisdn", "cedula", "email", "text", "input", "token",
//     "authorization"…, see keyClass) are replaced wholesale: identifiers
//     by their pseudonym under p, secrets and free text by a placeholder;
//     so is everything inside a group with such a name;
//   - message ids ("message_id", "notification_id") keep their random
//     runs, which Scrub would take for tokens: operators match them with
//     what the notifications API answered (ScrubID);
//   - every other string, error, Stringer and composite value, and the
//     message, goes through Scrub;
//   - Phone, NationalID, Email, Token and Text values are redacted under p;
//     other LogValuers are resolved, then treated like any value;
//   - a value that already has the shape of a pseudonym is kept.
//
// Booleans, durations and times pass unchanged under any key; other
// numbers too, unless their key is sensitive or they have 9 digits or more
// (a cédula logged as a number). Composite values (structs, maps, slices)
// are logged as their scrubbed fmt "%+v" text. p may be nil: the
// Pseudonymizer installed by SetDefault is used then, and without one
// identifiers log as "[redacted phone]" and the like.
func NewHandler(inner slog.Handler, p *Pseudonymizer) slog.Handler {
	return &handler{inner: inner, p: p}
}

type handler struct {
	inner slog.Handler
	p     *Pseudonymizer
	// group is the class of the innermost sensitive group opened by
	// WithGroup: everything logged inside it is redacted as that class.
	group sensitivity
}

var _ slog.Handler = (*handler)(nil)

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a, h.group))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a, h.group)
	}
	return &handler{inner: h.inner.WithAttrs(clean), p: h.p, group: h.group}
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	g := h.group
	if g == classPlain {
		g = keyClass(name)
	}
	return &handler{inner: h.inner.WithGroup(name), p: h.p, group: g}
}

func (h *handler) pseudonymizer() *Pseudonymizer {
	if h.p != nil {
		return h.p
	}
	return Default()
}

// sensitivity is what a key says about its value.
type sensitivity uint8

const (
	classPlain      sensitivity = iota // scrubbed
	classSafe                          // kept: an id that Scrub could mistake for a token
	classID                            // an id of ours: ScrubID, which keeps random runs
	classPhone                         // replaced by its pseudonym
	classNationalID                    // replaced by its pseudonym
	classEmail                         // replaced by its pseudonym
	classSecret                        // replaced by a placeholder
	classText                          // replaced by its length
)

// keyClasses caches keyClass: a program logs a few dozen distinct keys,
// and a record has several. It is bounded in case keys are made up at run
// time.
var keyClasses struct {
	m sync.Map // string → sensitivity
	n atomic.Int32
}

// keyClass classifies an attribute key or group name. Keys are compared
// lower-cased and without "_", "-", "." and spaces, so "phone_number",
// "phoneNumber" and "Phone-Number" are one key.
func keyClass(key string) sensitivity {
	if c, ok := keyClasses.m.Load(key); ok {
		return c.(sensitivity)
	}
	c := classify(normKey(key))
	if keyClasses.n.Add(1) <= 4096 {
		keyClasses.m.Store(key, c)
	}
	return c
}

func classify(k string) sensitivity {
	switch k {
	case "correlationid", "requestid", "traceid", "spanid", "xroadid":
		return classSafe
	case "messageid", "notificationid":
		// The ids the notifications API answers with, which operators
		// look for; Scrub would take them for tokens.
		return classID
	case "ruc", "ci", "dni", "nui", "nationalid", "documento", "identificacion":
		return classNationalID
	case "text", "input", "body", "answer", "reply", "screen", "payload", "params",
		"vars", "trail", "content", "message", "sms", "query", "form",
		"nombre", "nombres", "apellido", "apellidos", "fullname", "address", "direccion":
		return classText
	case "auth", "sig", "pwd", "apikey", "cookie", "setcookie":
		return classSecret
	}
	for _, c := range []struct {
		part  string
		class sensitivity
	}{
		{"phone", classPhone}, {"msisdn", classPhone}, {"telefono", classPhone},
		{"celular", classPhone}, {"mobile", classPhone},
		{"cedula", classNationalID},
		{"email", classEmail}, {"correo", classEmail},
		{"token", classSecret}, {"authorization", classSecret}, {"password", classSecret},
		{"passwd", classSecret}, {"secret", classSecret}, {"credential", classSecret},
		{"apikey", classSecret}, {"signature", classSecret},
	} {
		if strings.Contains(k, c.part) {
			return c.class
		}
	}
	return classPlain
}

func normKey(key string) string {
	b := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '_' || c == '-' || c == '.' || c == ' ':
		case isUpper(c):
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// attr cleans one attribute; outer is the class of the group it is in.
func (h *handler) attr(a slog.Attr, outer sensitivity) slog.Attr {
	if a.Equal(slog.Attr{}) {
		return a // the inner handler ignores it
	}
	c := outer
	if c == classPlain && a.Key != "" {
		c = keyClass(a.Key)
	}
	a.Value = h.value(a.Value, c)
	return a
}

func (h *handler) value(v slog.Value, c sensitivity) slog.Value {
	if v.Kind() == slog.KindLogValuer {
		switch lv := v.LogValuer().(type) {
		case Phone:
			return pseudonymValue(h.pseudonymizer(), KindPhone, string(lv))
		case NationalID:
			return pseudonymValue(h.pseudonymizer(), KindNationalID, string(lv))
		case Email:
			return pseudonymValue(h.pseudonymizer(), KindEmail, string(lv))
		case Token:
			return slog.StringValue(tokenString(string(lv)))
		case Text:
			return slog.StringValue(textString(string(lv)))
		}
		v = v.Resolve()
	}
	if v.Kind() == slog.KindGroup {
		attrs := v.Group()
		clean := make([]slog.Attr, len(attrs))
		for i, a := range attrs {
			clean[i] = h.attr(a, c)
		}
		return slog.GroupValue(clean...)
	}
	switch v.Kind() {
	case slog.KindBool, slog.KindDuration, slog.KindTime:
		return v // whatever the key, these name no one ("cedula_valid": true)
	}
	switch c {
	case classSafe:
		return v
	case classID:
		if s := valueString(v); ScrubID(s) != s {
			return slog.StringValue(ScrubID(s))
		}
		return v
	case classPhone:
		return pseudonymValue(h.pseudonymizer(), KindPhone, valueString(v))
	case classNationalID:
		return pseudonymValue(h.pseudonymizer(), KindNationalID, valueString(v))
	case classEmail:
		return pseudonymValue(h.pseudonymizer(), KindEmail, valueString(v))
	case classSecret:
		return slog.StringValue(tokenString(valueString(v)))
	case classText:
		return slog.StringValue(textString(valueString(v)))
	}
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		if IsPseudonym(s) {
			return v
		}
		if t := Scrub(s); t != s {
			return slog.StringValue(t)
		}
		return v
	case slog.KindInt64:
		if n := v.Int64(); n >= 1e8 || n <= -1e8 {
			return slog.StringValue(ScrubNumber)
		}
		return v
	case slog.KindUint64:
		if v.Uint64() >= 1e8 {
			return slog.StringValue(ScrubNumber)
		}
		return v
	case slog.KindFloat64:
		// A number read from JSON as a float: 1.714307103e+09.
		if f := v.Float64(); (f >= 1e8 || f <= -1e8) && f == math.Trunc(f) {
			return slog.StringValue(ScrubNumber)
		}
		return v
	case slog.KindAny:
		return slog.StringValue(Scrub(valueString(v)))
	}
	return v // bool, duration, time
}

// valueString is the text a handler would print for v.
func valueString(v slog.Value) string {
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		return strconv.FormatInt(v.Int64(), 10)
	case slog.KindUint64:
		return strconv.FormatUint(v.Uint64(), 10)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return x.Error()
		case fmt.Stringer:
			return x.String()
		case []byte:
			return string(x)
		case nil:
			return "<nil>"
		default:
			return fmt.Sprintf("%+v", x)
		}
	}
	return v.String()
}
