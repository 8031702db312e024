package africastalking

import (
	"log/slog"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const (
	name = "africastalking"

	maxText = 512 // bytes of the whole cumulative history

	// prefixLen is the room "CON " / "END " take; see the package comment.
	prefixLen = 4
	// minLimit keeps Limit-prefixLen at or above what ussd.Paginate honours.
	minLimit = wire.MinScreen + prefixLen
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
	// EventsPath is the end-of-session notification route (default
	// Path+"/events").
	EventsPath string
	// DefaultRegion is the ISO 3166 region used to read phone numbers
	// without a leading "+" (default "EC").
	DefaultRegion string
	// Log receives the adapter's lines; nil: slog.Default(). The gateway
	// passes its own, which pseudonymises citizens' identifiers.
	Log *slog.Logger
}

// Handler is the Africa's Talking USSD carrier adapter.
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
	opts.Limit = max(opts.Limit, minLimit)
	if opts.Path == "" {
		opts.Path = "/ussd/africastalking"
	}
	if opts.EventsPath == "" {
		opts.EventsPath = opts.Path + "/events"
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "EC"
	}
	return &Handler{opts: opts, log: wire.Logger(opts.Log).With("carrier", name)}
}

// Name returns "africastalking".
func (h *Handler) Name() string { return name }

// Mount registers the callback route (POST Path) and the end-of-session
// notification route (POST EventsPath).
func (h *Handler) Mount(r carrier.Router, hop carrier.Hopper) {
	r.Add(http.MethodPost, h.opts.Path, func(c echo.Context) error { return h.serve(c, hop) })
	r.Add(http.MethodPost, h.opts.EventsPath, func(c echo.Context) error { return h.serveEvent(c, hop) })
}

func (h *Handler) serve(c echo.Context, hop carrier.Hopper) error {
	values, err := wire.ReadForm(c, wire.MaxBody)
	if err != nil {
		return wire.Refuse(c, err)
	}
	in, err := h.ParseForm(values)
	if err != nil {
		return wire.Refuse(c, err)
	}
	return h.write(c, wire.Hop(c.Request().Context(), hop, in, h.log))
}

// write frames the reply. Our failures arrive here too, as an END screen
// (see wire.Hop): Africa's Talking turns an HTTP error or a body without
// CON/END into a generic carrier error on the handset.
func (h *Handler) write(c echo.Context, rep carrier.Reply) error {
	prefix := "CON "
	if rep.End {
		prefix = "END "
	}
	text := wire.Fit(rep.Text, h.opts.Limit-prefixLen)
	if len(text) != len(rep.Text) {
		h.log.Warn("ussd reply longer than the screen, cut",
			"runes", utf8.RuneCountInString(rep.Text), "limit", h.opts.Limit-prefixLen)
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(prefix+text))
}

// ParseForm validates one callback's fields and builds the Inbound. It is
// pure, so it can be fuzzed and reused by tools that replay captures.
// Unknown fields (networkCode included, which the engine does not need)
// are ignored; a field sent twice is rejected rather than guessed at.
//
// Africa's Talking does not say which hop opens a session (the first has
// text ""), so the Event is EventContinue: the gateway knows a new session
// by not having it.
func (h *Handler) ParseForm(v url.Values) (carrier.Inbound, error) {
	sessionID, err := wire.Field(v, "sessionId")
	if err != nil {
		return carrier.Inbound{}, err
	}
	if sessionID, err = wire.SessionID("sessionId", sessionID); err != nil {
		return carrier.Inbound{}, err
	}

	phone, err := wire.Field(v, "phoneNumber")
	if err != nil {
		return carrier.Inbound{}, err
	}
	if phone, err = wire.E164("phoneNumber", phone, h.opts.DefaultRegion); err != nil {
		return carrier.Inbound{}, err
	}

	service, err := wire.Field(v, "serviceCode")
	if err != nil {
		return carrier.Inbound{}, err
	}
	if service, err = wire.ServiceCode("serviceCode", service); err != nil {
		return carrier.Inbound{}, err
	}

	text, err := wire.Field(v, "text")
	if err != nil {
		return carrier.Inbound{}, err
	}
	if text, err = wire.CleanInput("text", text, maxText); err != nil {
		return carrier.Inbound{}, err
	}

	return carrier.Inbound{
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
