package kannel

import (
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Carrier is the name both adapters put in carrier.Inbound.Carrier.
const Carrier = "kannel"

// maxSMSText bounds a decoded message: ten concatenated parts, which
// Kannel reassembles before calling us (sms-combine-concatenated-mo).
const maxSMSText = 1600

// SMSOptions configures the SMS adapter. Zero values take the defaults.
type SMSOptions struct {
	// Path is the route smsbox's get-url (or post-url) points at
	// (default "/sms/kannel").
	Path string
	// DefaultRegion is the ISO 3166 region used to read numbers without
	// a leading "+" (default "EC").
	DefaultRegion string
	// Limit is passed to the gateway as the characters it may put in one
	// reply; 0 leaves the gateway's default. Kannel splits a long reply
	// into concatenated SMS itself (up to the sms-service max-messages).
	Limit int
	// Log receives the adapter's lines; nil: slog.Default(). The gateway
	// passes its own, which pseudonymises citizens' identifiers.
	Log *slog.Logger
}

// SMS is the Kannel SMS adapter: one smsbox call per message a citizen
// sends, answered with the whole reply.
type SMS struct {
	opts SMSOptions
	log  *slog.Logger
}

var _ carrier.Carrier = (*SMS)(nil)

// NewSMS returns an SMS adapter with opts, defaults filled in.
func NewSMS(opts SMSOptions) *SMS {
	if opts.Path == "" {
		opts.Path = "/sms/kannel"
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "EC"
	}
	opts.Limit = max(opts.Limit, 0)
	return &SMS{opts: opts, log: wire.Logger(opts.Log).With("carrier", Carrier, "channel", "sms")}
}

// Name returns "kannel-sms": unique among carriers, while the Inbound it
// builds names the carrier "kannel".
func (h *SMS) Name() string { return "kannel-sms" }

// Mount registers GET and POST Path: smsbox's get-url, post-url, or a
// form POST with the same fields.
func (h *SMS) Mount(r carrier.Router, hop carrier.Hopper) {
	serve := func(c echo.Context) error { return h.serve(c, hop) }
	r.Add(http.MethodGet, h.opts.Path, serve)
	r.Add(http.MethodPost, h.opts.Path, serve)
}

func (h *SMS) serve(c echo.Context, hop carrier.Hopper) error {
	req, err := readRequest(c)
	if err == nil {
		var in carrier.Inbound
		if in, err = h.Parse(req); err == nil {
			rep := wire.Hop(c.Request().Context(), hop, in, h.log)
			if strings.TrimSpace(rep.Text) == "" {
				return writeNothing(c)
			}
			return writeText(c, rep.Text, codingFor(rep.Text), "")
		}
	}
	return refuse(c, h.log, err)
}

// Parse validates one smsbox call and builds the Inbound. It is pure, so
// it can be fuzzed and reused by tools that replay captures. Unknown
// fields (ts, a time stamp, among them) are ignored; a field sent twice is
// rejected rather than guessed at. SessionID stays empty: the gateway keys
// SMS conversations by phone. The receiver (our short code) goes into
// ServiceCode, so a route can tie a short code to a flow.
func (h *SMS) Parse(req Request) (carrier.Inbound, error) {
	from, err := field(req.Fields, "from")
	if err != nil {
		return carrier.Inbound{}, err
	}
	phone, err := wire.E164("from", from, h.opts.DefaultRegion)
	if err != nil {
		return carrier.Inbound{}, err
	}
	to, err := address(req.Fields, "to", true)
	if err != nil {
		return carrier.Inbound{}, err
	}
	if _, err := address(req.Fields, "smsc", false); err != nil {
		return carrier.Inbound{}, err
	}
	text, err := message(req)
	if err != nil {
		return carrier.Inbound{}, err
	}
	// Line breaks and tabs are whitespace a citizen typed on a phone:
	// answers are read one line at a time, so they become spaces. Every
	// other control character is refused.
	text = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, text)
	if utf8.RuneCountInString(text) > maxSMSText {
		return carrier.Inbound{}, &FieldError{Field: "text", Reason: "longer than 1600 characters"}
	}
	if text, err = wire.CleanInput("text", text, 4*maxSMSText); err != nil {
		return carrier.Inbound{}, err
	}
	return carrier.Inbound{
		Channel:     "sms",
		Carrier:     Carrier,
		Phone:       phone,
		ServiceCode: to,
		Input:       text,
		Limit:       h.opts.Limit,
	}, nil
}
