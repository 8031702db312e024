package africastalking

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/nyaruka/phonenumbers"

	"ventanilla/channels"
	"ventanilla/channels/ussd"
)

const (
	name = "africastalking"

	maxBody      = 8 << 10 // a real callback is a few hundred bytes
	maxSessionID = 128
	maxService   = 64
	maxText      = 512 // bytes of the whole cumulative history
	maxPhone     = 20  // "+" and at most 15 digits (E.164), with slack

	// prefixLen is the room "CON " / "END " take; see the package comment.
	prefixLen = 4
	// minLimit keeps Limit-prefixLen at or above what ussd.Paginate honours.
	minLimit = 40 + prefixLen

	// fallback ends the session when the gateway fails to produce a reply.
	fallback = "Servicio no disponible. Intente más tarde."
)

// Options configures the adapter. Zero values take the defaults.
type Options struct {
	// Limit is the characters allowed in the whole reply body, "CON "/"END "
	// included (default 182). The gateway is asked for screens of
	// Limit-4 characters. Values below 44 (the renderer's 40-character
	// minimum plus the prefix) are raised to 44.
	Limit int
	// Path is the callback route (default "/ussd/africastalking").
	Path string
	// DefaultRegion is the ISO 3166 region used to read phone numbers
	// without a leading "+" (default "EC").
	DefaultRegion string
}

// Handler is the Africa's Talking USSD carrier adapter.
type Handler struct {
	opts Options
	log  *slog.Logger
}

var _ channels.Carrier = (*Handler)(nil)

// New returns an adapter with opts, defaults filled in.
func New(opts Options) *Handler {
	if opts.Limit <= 0 {
		opts.Limit = ussd.DefaultLimit
	}
	opts.Limit = max(opts.Limit, minLimit)
	if opts.Path == "" {
		opts.Path = "/ussd/africastalking"
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "EC"
	}
	return &Handler{opts: opts, log: slog.Default().With("carrier", name)}
}

// Name returns "africastalking".
func (h *Handler) Name() string { return name }

// Mount registers the callback route: POST Path.
func (h *Handler) Mount(r channels.Router, hop channels.Hopper) {
	r.Add(http.MethodPost, h.opts.Path, func(c echo.Context) error { return h.serve(c, hop) })
}

// FieldError says which callback field was rejected and why. Its text is
// what the 400 response says, so it never repeats the offending value.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func (h *Handler) serve(c echo.Context, hop channels.Hopper) error {
	r := c.Request()
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationForm {
		return c.String(http.StatusUnsupportedMediaType,
			"Content-Type: want "+echo.MIMEApplicationForm+"\n")
	}
	if r.ContentLength > maxBody {
		return c.String(http.StatusRequestEntityTooLarge, "body: larger than 8 KiB\n")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response().Writer, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return c.String(http.StatusRequestEntityTooLarge, "body: larger than 8 KiB\n")
		}
		return c.String(http.StatusBadRequest, "body: unreadable\n")
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return c.String(http.StatusBadRequest, "body: malformed form encoding\n")
	}
	in, err := h.ParseForm(values)
	if err != nil {
		return c.String(http.StatusBadRequest, err.Error()+"\n")
	}
	return h.hop(c, hop, in)
}

// hop runs the gateway and answers. Failures on our side still answer 200
// with an END screen: Africa's Talking turns an HTTP error (or a body
// without CON/END) into a generic carrier error on the handset, so a
// citizen would see an untranslated failure instead of our message. With
// an error the gateway still returns a localised reply, which is used
// (always ending the session, whose state is then unknown); the Spanish
// fallback covers a reply without text and a panic.
func (h *Handler) hop(c echo.Context, hop channels.Hopper, in channels.Inbound) (err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler { // net/http's own "abort quietly" panic
			panic(p)
		}
		h.log.Error("ussd hop panicked", "panic", p, "stack", string(debug.Stack()))
		err = h.write(c, channels.Reply{Text: fallback, End: true})
	}()
	rep, err := hop.Hop(c.Request().Context(), in)
	if err != nil {
		h.log.Error("ussd hop failed", "err", err)
		rep.End = true
		if strings.TrimSpace(rep.Text) == "" {
			rep.Text = fallback
		}
	}
	return h.write(c, rep)
}

func (h *Handler) write(c echo.Context, rep channels.Reply) error {
	prefix := "CON "
	if rep.End {
		prefix = "END "
	}
	text := fit(rep.Text, h.opts.Limit-prefixLen)
	if len(text) != len(rep.Text) {
		h.log.Warn("ussd reply longer than the screen, cut",
			"runes", utf8.RuneCountInString(rep.Text), "limit", h.opts.Limit-prefixLen)
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(prefix+text))
}

// fit makes text at most limit runes. The gateway renders within the limit
// it was given, so this is a safety net: it drops whole trailing lines
// first, and cuts the first line only if it alone is too long. A cut screen
// beats a screen the operator rejects.
func fit(text string, limit int) string {
	limit = max(limit, 1)
	for utf8.RuneCountInString(text) > limit {
		i := strings.LastIndexByte(text, '\n')
		if i < 0 {
			n := 0
			for j := range text {
				if n == limit {
					return text[:j]
				}
				n++
			}
			return text
		}
		text = text[:i]
	}
	return text
}

// ParseForm validates one callback's fields and builds the Inbound. It is
// pure, so it can be fuzzed and reused by tools that replay captures.
// Unknown fields (networkCode included, which the engine does not need)
// are ignored; a field sent twice is rejected rather than guessed at.
func (h *Handler) ParseForm(v url.Values) (channels.Inbound, error) {
	sessionID, err := field(v, "sessionId")
	if err != nil {
		return channels.Inbound{}, err
	}
	switch {
	case sessionID == "":
		return channels.Inbound{}, &FieldError{"sessionId", "missing"}
	case len(sessionID) > maxSessionID:
		return channels.Inbound{}, &FieldError{"sessionId", "longer than 128 characters"}
	case !visibleASCII(sessionID):
		return channels.Inbound{}, &FieldError{"sessionId", "not printable ASCII"}
	}

	rawPhone, err := field(v, "phoneNumber")
	if err != nil {
		return channels.Inbound{}, err
	}
	phone, err := e164(rawPhone, h.opts.DefaultRegion)
	if err != nil {
		return channels.Inbound{}, err
	}

	service, err := field(v, "serviceCode")
	if err != nil {
		return channels.Inbound{}, err
	}
	if len(service) > maxService || !visibleASCII(service) {
		return channels.Inbound{}, &FieldError{"serviceCode", "not a USSD code"}
	}

	text, err := field(v, "text")
	if err != nil {
		return channels.Inbound{}, err
	}
	switch {
	case len(text) > maxText:
		return channels.Inbound{}, &FieldError{"text", "longer than 512 bytes"}
	case !utf8.ValidString(text):
		return channels.Inbound{}, &FieldError{"text", "not valid UTF-8"}
	case strings.ContainsFunc(text, unicode.IsControl):
		return channels.Inbound{}, &FieldError{"text", "contains control characters"}
	}

	return channels.Inbound{
		Channel:     "ussd",
		Carrier:     name,
		SessionID:   sessionID,
		Phone:       phone,
		ServiceCode: service,
		Input:       text,
		Cumulative:  true,
		Limit:       h.opts.Limit - prefixLen,
	}, nil
}

// field returns the single value of key ("" when absent).
func field(v url.Values, key string) (string, error) {
	switch vals := v[key]; len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], nil
	default:
		return "", &FieldError{key, "sent more than once"}
	}
}

// visibleASCII reports whether s holds only printable ASCII other than
// space ("" included): session ids and service codes end up in store keys
// and logs, where spaces and control bytes only cause trouble.
func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// e164 normalises the caller's number. Africa's Talking sends E.164
// ("+2547…"); numbers without "+" are read in region first (a national
// "0991234567"), then as international digits whose "+" was dropped
// ("254722000000"). Only digits are accepted because the parser would
// otherwise turn letters into keypad digits ("+254711XXXYYY" is "valid").
// Possible, not valid, is required: libphonenumber's ranges lag behind
// operators, and refusing a new range would lock real citizens out.
func e164(raw, region string) (string, error) {
	s := raw
	if strings.HasPrefix(s, " ") {
		// A "+" that the sender did not percent-encode decodes as a space.
		s = "+" + s[1:]
	}
	digits, plus := strings.CutPrefix(s, "+")
	switch {
	case s == "":
		return "", &FieldError{"phoneNumber", "missing"}
	case len(s) > maxPhone || digits == "" || strings.ContainsFunc(digits, notDigit):
		return "", &FieldError{"phoneNumber", "not a phone number"}
	}
	try := []string{s}
	if !plus {
		try = append(try, "+"+digits)
	}
	for _, t := range try {
		num, err := phonenumbers.Parse(t, region)
		if err == nil && phonenumbers.IsPossibleNumber(num) {
			return phonenumbers.Format(num, phonenumbers.E164), nil
		}
	}
	return "", &FieldError{"phoneNumber", "not a phone number"}
}

func notDigit(r rune) bool { return r < '0' || r > '9' }
