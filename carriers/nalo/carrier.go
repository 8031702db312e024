package nalo

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
	name = "nalo"

	maxUserData = 512 // bytes of one answer or dialled string
	maxUserID   = 64
)

// Options configures the adapter. Zero values take the defaults.
type Options struct {
	// Limit is the characters allowed in a reply's MSG (default 182;
	// values below 40 are raised to 40). Nalo's JSON has no in-band
	// prefix, so the whole limit goes to the screen.
	Limit int
	// Path is the callback route (default "/ussd/nalo").
	Path string
	// DefaultRegion is the ISO 3166 region used to read numbers that are
	// neither international nor "+"-less international (default "EC").
	// Nalo sends international digits without "+" ("233244123456"),
	// which are read correctly whatever the region.
	DefaultRegion string
	// Log receives the adapter's lines; nil: slog.Default(). The gateway
	// passes its own, which pseudonymises citizens' identifiers.
	Log *slog.Logger
}

// Handler is the Nalo USSD carrier adapter.
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
		opts.Path = "/ussd/nalo"
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "EC"
	}
	return &Handler{opts: opts, log: wire.Logger(opts.Log).With("carrier", name)}
}

// Name returns "nalo".
func (h *Handler) Name() string { return name }

// Mount registers the callback route: POST Path.
func (h *Handler) Mount(r carrier.Router, hop carrier.Hopper) {
	r.Add(http.MethodPost, h.opts.Path, func(c echo.Context) error { return h.serve(c, hop) })
}

// Request is one hop as Nalo posts it. Fields Nalo adds are ignored; the
// ones listed must have these types. MSGTYPE is a pointer because a
// missing MSGTYPE must not read as "not the first hop".
type Request struct {
	UserID    string `json:"USERID"`
	MSISDN    string `json:"MSISDN"`
	UserData  string `json:"USERDATA"`
	MsgType   *bool  `json:"MSGTYPE"`
	Network   string `json:"NETWORK"`
	SessionID string `json:"SESSIONID"`
}

// Reply is the answer to a hop. USERID and MSISDN echo the request's, as
// Nalo sent them; MSGTYPE true keeps the session open.
type Reply struct {
	UserID  string `json:"USERID"`
	MSISDN  string `json:"MSISDN"`
	Msg     string `json:"MSG"`
	MsgType bool   `json:"MSGTYPE"`
}

func (h *Handler) serve(c echo.Context, hop carrier.Hopper) error {
	body, err := wire.ReadBody(c, echo.MIMEApplicationJSON, wire.MaxBody)
	if err != nil {
		return wire.Refuse(c, err)
	}
	in, req, err := h.ParseRequest(body)
	if err != nil {
		return wire.Refuse(c, err)
	}
	rep := wire.Hop(c.Request().Context(), hop, in, h.log)
	text := wire.Fit(rep.Text, h.opts.Limit)
	if len(text) != len(rep.Text) {
		h.log.Warn("ussd reply longer than the screen, cut",
			"runes", utf8.RuneCountInString(rep.Text), "limit", h.opts.Limit)
	}
	// Our failures arrive here too, as a final screen (see wire.Hop), so
	// the handset shows our message rather than Nalo's generic error.
	return wire.JSON(c, Reply{UserID: req.UserID, MSISDN: req.MSISDN, Msg: text, MsgType: !rep.End})
}

// ParseRequest validates one hop's body and builds the Inbound; it also
// returns the request, trimmed, for the fields the reply echoes. It is
// pure, so it can be fuzzed and reused by tools that replay captures.
//
// MSGTYPE true opens the session (EventBegin). Its USERDATA is what the
// citizen dialled ("*920*1*2#", shortcut answers included); when it looks
// like a dial string it becomes the ServiceCode, otherwise (some Nalo
// setups send it empty) the ServiceCode is empty and the gateway opens
// its root flow. Input is empty on the first hop: the gateway reads
// shortcut answers out of the ServiceCode. MSGTYPE false carries one
// answer in USERDATA (not a history).
func (h *Handler) ParseRequest(body []byte) (carrier.Inbound, Request, error) {
	var r Request
	if err := wire.DecodeJSON(body, &r); err != nil {
		return carrier.Inbound{}, Request{}, err
	}
	sessionID, err := wire.SessionID("SESSIONID", r.SessionID)
	if err != nil {
		return carrier.Inbound{}, Request{}, err
	}
	r.MSISDN = strings.TrimSpace(r.MSISDN)
	phone, err := wire.E164("MSISDN", r.MSISDN, h.opts.DefaultRegion)
	if err != nil {
		return carrier.Inbound{}, Request{}, err
	}
	if r.MsgType == nil {
		return carrier.Inbound{}, Request{}, &wire.FieldError{Field: "MSGTYPE", Reason: "missing"}
	}
	// USERID is only echoed, but it is echoed into our reply: keep it to
	// what an account id looks like.
	if r.UserID = strings.TrimSpace(r.UserID); len(r.UserID) > maxUserID || !wire.VisibleASCII(r.UserID) {
		return carrier.Inbound{}, Request{}, &wire.FieldError{Field: "USERID", Reason: "not an account id"}
	}
	data, err := wire.CleanInput("USERDATA", r.UserData, maxUserData)
	if err != nil {
		return carrier.Inbound{}, Request{}, err
	}
	r.UserData = data

	in := carrier.Inbound{
		Channel:   "ussd",
		Carrier:   name,
		SessionID: sessionID,
		Phone:     phone,
		Limit:     h.opts.Limit,
	}
	if *r.MsgType {
		in.Event = carrier.EventBegin
		if wire.IsDialString(data) {
			in.ServiceCode = data
		}
	} else {
		in.Event = carrier.EventContinue
		in.Input = data
	}
	return in, r, nil
}
