package generic

import (
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const (
	name = "generic"

	// The bounds openapi.yaml documents (maxLength); the contract test
	// checks each one.
	maxInput     = 512
	maxEndStatus = 32
	maxNetwork   = 32
)

// Events, as the request's "event" spells them.
const (
	EventBegin    = "begin"
	EventContinue = "continue"
	EventEnd      = "end"
)

// Options configures the adapter. Zero values take the defaults.
type Options struct {
	// Limit is the characters allowed in a reply's text (default 182;
	// values below 40 are raised to 40).
	Limit int
	// Path is the callback route (default "/ussd/generic").
	Path string
	// DefaultRegion is the ISO 3166 region used to read msisdn values
	// without a leading "+" that are not international digits either
	// (default "EC").
	DefaultRegion string
	// Log receives the adapter's lines; nil: slog.Default(). The gateway
	// passes its own, which pseudonymises citizens' identifiers.
	Log *slog.Logger
}

// Handler is the adapter for Ventanilla's own USSD protocol.
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
		opts.Path = "/ussd/generic"
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "EC"
	}
	return &Handler{opts: opts, log: wire.Logger(opts.Log).With("carrier", name)}
}

// Name returns "generic".
func (h *Handler) Name() string { return name }

// Mount registers the callback route: POST Path.
func (h *Handler) Mount(r carrier.Router, hop carrier.Hopper) {
	r.Add(http.MethodPost, h.opts.Path, func(c echo.Context) error { return h.serve(c, hop) })
}

// Request is one hop; see openapi.yaml. Unknown fields are ignored so
// that aggregators can send more than we read.
type Request struct {
	SessionID   string `json:"session_id"`
	MSISDN      string `json:"msisdn"`
	Event       string `json:"event"`
	ServiceCode string `json:"service_code"`
	Input       string `json:"input"`
	EndStatus   string `json:"end_status"`
	Network     string `json:"network"`
}

// Reply is the answer to every accepted hop; see openapi.yaml.
type Reply struct {
	SessionID string `json:"session_id"`
	Text      string `json:"text"`
	End       bool   `json:"end"`
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
		// The session is over on the aggregator's side: nothing to show,
		// but the reply keeps its one shape.
		return wire.JSON(c, Reply{SessionID: in.SessionID, End: true})
	}
	text := wire.Fit(rep.Text, h.opts.Limit)
	if len(text) != len(rep.Text) {
		h.log.Warn("ussd reply longer than the screen, cut",
			"runes", utf8.RuneCountInString(rep.Text), "limit", h.opts.Limit)
	}
	// Our failures arrive here too, as a final screen (see wire.Hop).
	return wire.JSON(c, Reply{SessionID: in.SessionID, Text: text, End: rep.End})
}

// ParseRequest validates one hop's body and builds the Inbound. It is
// pure, so it can be fuzzed and reused by tools that replay captures.
//
// The protocol is strict where a mistake would otherwise be silent: an
// answer sent with "begin" (where the dialled string belongs in
// service_code) or with "end", and an end_status without "end", are
// refused rather than dropped.
func (h *Handler) ParseRequest(body []byte) (carrier.Inbound, error) {
	var r Request
	if err := wire.DecodeJSON(body, &r); err != nil {
		return carrier.Inbound{}, err
	}
	sessionID, err := wire.SessionID("session_id", r.SessionID)
	if err != nil {
		return carrier.Inbound{}, err
	}
	phone, err := wire.E164("msisdn", strings.TrimSpace(r.MSISDN), h.opts.DefaultRegion)
	if err != nil {
		return carrier.Inbound{}, err
	}
	in := carrier.Inbound{
		Channel:   "ussd",
		Carrier:   name,
		SessionID: sessionID,
		Phone:     phone,
		Limit:     h.opts.Limit,
	}
	switch r.Event {
	case EventBegin:
		in.Event = carrier.EventBegin
	case EventContinue:
		in.Event = carrier.EventContinue
	case EventEnd:
		in.Event = carrier.EventEnd
	case "":
		return carrier.Inbound{}, &wire.FieldError{Field: "event", Reason: "missing"}
	default:
		return carrier.Inbound{}, &wire.FieldError{Field: "event", Reason: "not one of begin, continue, end"}
	}
	if in.ServiceCode, err = wire.ServiceCode("service_code", r.ServiceCode); err != nil {
		return carrier.Inbound{}, err
	}
	if in.Input, err = wire.CleanInput("input", r.Input, maxInput); err != nil {
		return carrier.Inbound{}, err
	}
	if in.Input != "" && r.Event != EventContinue {
		return carrier.Inbound{}, &wire.FieldError{Field: "input", Reason: "only with event continue"}
	}
	status := strings.TrimSpace(r.EndStatus)
	switch {
	case status != "" && r.Event != EventEnd:
		return carrier.Inbound{}, &wire.FieldError{Field: "end_status", Reason: "only with event end"}
	case len(status) > maxEndStatus || !wire.VisibleASCII(status):
		return carrier.Inbound{}, &wire.FieldError{Field: "end_status", Reason: "not a session status"}
	}
	in.EndStatus = status
	if _, err := wire.CleanInput("network", r.Network, maxNetwork); err != nil {
		return carrier.Inbound{}, err
	}
	return in, nil
}
