package hubtel

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const (
	name = "hubtel"

	maxMessage = 512 // bytes of one answer or dialled string
)

// Options configures the adapter. Zero values take the defaults.
type Options struct {
	// Limit is the characters allowed in a reply's Message (default 182;
	// values below 40 are raised to 40). Hubtel's JSON has no in-band
	// prefix, so the whole limit goes to the screen.
	Limit int
	// Path is the callback route (default "/ussd/hubtel").
	Path string
	// DefaultRegion is the ISO 3166 region used to read numbers that are
	// neither international nor "+"-less international (default "EC").
	// Hubtel sends Ghanaian international digits ("233244123456"), which
	// are read correctly whatever the region.
	DefaultRegion string
	// Log receives the adapter's lines; nil: slog.Default(). The gateway
	// passes its own, which pseudonymises citizens' identifiers.
	Log *slog.Logger
}

// Handler is the Hubtel USSD carrier adapter.
type Handler struct {
	opts Options
	log  *slog.Logger
}

var _ carrier.Carrier = (*Handler)(nil)

// New returns an adapter with opts, defaults filled in.
func New(opts Options) *Handler {
	if opts.Limit <= 0 {
		opts.Limit = carrier.DefaultUSSDLimit
	}
	opts.Limit = max(opts.Limit, wire.MinScreen)
	if opts.Path == "" {
		opts.Path = "/ussd/hubtel"
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "EC"
	}
	return &Handler{opts: opts, log: wire.Logger(opts.Log).With("carrier", name)}
}

// Name returns "hubtel".
func (h *Handler) Name() string { return name }

// Mount registers the callback route: POST Path.
func (h *Handler) Mount(r carrier.Router, hop carrier.Hopper) {
	r.Add(http.MethodPost, h.opts.Path, func(c echo.Context) error { return h.serve(c, hop) })
}

// Request is one hop as Hubtel posts it. Fields Hubtel adds (Platform,
// ExtraData…) are ignored; the ones listed must have these types.
type Request struct {
	Mobile      string   `json:"Mobile"`
	SessionID   string   `json:"SessionId"`
	ServiceCode string   `json:"ServiceCode"`
	Type        string   `json:"Type"`
	Message     string   `json:"Message"`
	Operator    string   `json:"Operator"`
	Sequence    Sequence `json:"Sequence"`
	ClientState string   `json:"ClientState"`
}

// Reply is the answer to a hop. ClientState is never set: the gateway
// keeps the session, and Hubtel would only echo it back once.
type Reply struct {
	Type        string `json:"Type"`
	Message     string `json:"Message"`
	ClientState string `json:"ClientState,omitempty"`
}

// Reply types.
const (
	TypeResponse = "Response"
	TypeRelease  = "Release"
)

// Sequence is Hubtel's number for a hop within its session. Hubtel's own
// SDK declares it an integer, while the sample requests in its
// Programmable Services documentation send it quoted ("Sequence":"1"), so
// a whole number in either form is read; anything else is refused.
type Sequence int

// UnmarshalJSON reads 3 or "3"; null leaves 0.
func (s *Sequence) UnmarshalJSON(b []byte) error {
	raw := string(b)
	if raw == "null" {
		return nil
	}
	digits := raw
	if len(raw) >= 2 && raw[0] == '"' {
		digits = raw[1 : len(raw)-1]
	}
	if digits == "" || len(digits) > 9 || strings.ContainsFunc(digits, notDigit) {
		return &json.UnmarshalTypeError{Value: kindOf(raw), Type: reflect.TypeFor[int]()}
	}
	n, _ := strconv.Atoi(digits)
	*s = Sequence(n)
	return nil
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

func kindOf(raw string) string {
	switch {
	case raw == "true" || raw == "false":
		return "bool"
	case strings.HasPrefix(raw, `"`):
		return "string"
	case strings.HasPrefix(raw, "{"):
		return "object"
	case strings.HasPrefix(raw, "["):
		return "array"
	}
	return "number"
}

func (h *Handler) serve(c echo.Context, hop carrier.Hopper) error {
	body, err := wire.ReadBody(c, echo.MIMEApplicationJSON, wire.MaxBody)
	if err != nil {
		return wire.Refuse(c, err)
	}
	in, err := h.ParseRequest(body)
	if err != nil {
		return wire.Refuse(c, err)
	}
	rep := wire.Hop(c.Request().Context(), hop, in, h.log)
	if in.Event == carrier.EventEnd {
		// The session is already over on the handset: there is nothing to
		// show, but Hubtel's own framework answers every request with a
		// JSON body, so a Release without text is what it expects.
		return wire.JSON(c, Reply{Type: TypeRelease})
	}
	return h.write(c, rep)
}

// write frames the reply. Our failures arrive here too, as a final screen
// (see wire.Hop), so the handset shows our message rather than Hubtel's
// generic error.
func (h *Handler) write(c echo.Context, rep carrier.Reply) error {
	typ := TypeResponse
	if rep.End {
		typ = TypeRelease
	}
	text := wire.Fit(rep.Text, h.opts.Limit)
	if len(text) != len(rep.Text) {
		h.log.Warn("ussd reply longer than the screen, cut",
			"runes", utf8.RuneCountInString(rep.Text), "limit", h.opts.Limit)
	}
	return wire.JSON(c, Reply{Type: typ, Message: text})
}

// ParseRequest validates one hop's body and builds the Inbound. It is
// pure, so it can be fuzzed and reused by tools that replay captures.
//
//   - Initiation opens the session (EventBegin). Its Message is what the
//     citizen dialled ("*714*1*2#", shortcut answers included); when it
//     looks like a dial string it becomes the ServiceCode, otherwise (the
//     Hubtel app sends it empty) the ServiceCode field is used. Input is
//     empty: the gateway reads shortcut answers out of the ServiceCode.
//   - Response carries one answer in Message (not a history).
//   - Release (the citizen or Hubtel ended it) and Timeout end the session
//     (EventEnd, EndStatus "Release" or "Timeout").
//
// Type is matched without regard to case: Hubtel's documentation spells
// it "initiation", its SDK "Initiation".
func (h *Handler) ParseRequest(body []byte) (carrier.Inbound, error) {
	var r Request
	if err := wire.DecodeJSON(body, &r); err != nil {
		return carrier.Inbound{}, err
	}
	sessionID, err := wire.SessionID("SessionId", r.SessionID)
	if err != nil {
		return carrier.Inbound{}, err
	}
	phone, err := wire.E164("Mobile", strings.TrimSpace(r.Mobile), h.opts.DefaultRegion)
	if err != nil {
		return carrier.Inbound{}, err
	}
	typ, err := requestType(r.Type)
	if err != nil {
		return carrier.Inbound{}, err
	}
	service, err := wire.ServiceCode("ServiceCode", r.ServiceCode)
	if err != nil {
		return carrier.Inbound{}, err
	}
	msg, err := wire.CleanInput("Message", r.Message, maxMessage)
	if err != nil {
		return carrier.Inbound{}, err
	}

	in := carrier.Inbound{
		Channel:     "ussd",
		Carrier:     name,
		SessionID:   sessionID,
		Phone:       phone,
		ServiceCode: dialled(service),
		Seq:         int(r.Sequence),
		Limit:       h.opts.Limit,
	}
	switch typ {
	case "Initiation":
		in.Event = carrier.EventBegin
		if wire.IsDialString(msg) {
			in.ServiceCode = msg
		}
	case "Response":
		in.Event = carrier.EventContinue
		in.Input = msg
	default: // Release, Timeout
		in.Event = carrier.EventEnd
		in.EndStatus = typ
	}
	return in, nil
}

var requestTypes = []string{"Initiation", "Response", "Release", "Timeout"}

func requestType(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &wire.FieldError{Field: "Type", Reason: "missing"}
	}
	for _, t := range requestTypes {
		if strings.EqualFold(s, t) {
			return t, nil
		}
	}
	return "", &wire.FieldError{Field: "Type", Reason: "not one of " + strings.Join(requestTypes, ", ")}
}

// dialled writes a bare service code ("714", "711*2", as Hubtel's
// documentation shows ServiceCode) the way it is dialled ("*714#",
// "*711*2#"), so that routes keyed by dial strings match it. Anything
// else (a dial string already, an app service id) is left alone.
func dialled(code string) string {
	if code == "" || notDigit(rune(code[0])) || notDigit(rune(code[len(code)-1])) {
		return code
	}
	for _, c := range code {
		if notDigit(c) && c != '*' {
			return code
		}
	}
	return "*" + code + "#"
}
