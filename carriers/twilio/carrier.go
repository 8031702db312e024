package twilio

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/twilio/twilio-go/client"
	"github.com/twilio/twilio-go/twiml"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const (
	// Name is the adapter's name and the Carrier of its SMS hops.
	Name = "twilio"
	// WhatsApp is the Carrier of WhatsApp hops (and the gateway's word for
	// the channel a citizen prefers).
	WhatsApp = "whatsapp"

	// SignatureHeader carries Twilio's request signature.
	SignatureHeader = "X-Twilio-Signature"
)

// StatusSink records what Twilio reports about a message the gateway sent:
// providerID is Twilio's MessageSid (what SendID returned), state its
// MessageStatus (queued, sent, delivered, undelivered, failed, read…). An
// error is logged and answered 500, which Twilio shows in its debugger; a
// sink should return nil for a SID it does not know when that is expected
// (a Messaging Service's callback also reports TwiML replies).
type StatusSink interface {
	MarkDelivered(ctx context.Context, providerID, state string) error
}

// Options configures the adapter.
type Options struct {
	// PublicURL is the webhook's URL exactly as configured at Twilio
	// (VENTANILLA_PUBLIC_URL + Path, query string included if it has one).
	// Signatures are checked against it, never against the request's Host:
	// behind a proxy the two differ. Required.
	PublicURL string
	// StatusURL is the status callback's public URL (default
	// PublicURL + "/status"); StatusCallbackURL returns it for the Sender.
	StatusURL string
	// AuthToken is the account's auth token (TWILIO_AUTH_TOKEN), the key
	// of the signatures. Required.
	AuthToken string
	// Path is the webhook route (default "/sms/twilio").
	Path string
	// StatusPath is the status callback route (default Path + "/status").
	StatusPath string
	// DefaultRegion is the ISO 3166 region used to read numbers without a
	// leading "+" (default "EC"); Twilio sends E.164.
	DefaultRegion string
	// Status receives delivery status callbacks. Nil: callbacks are
	// verified and acknowledged, and not recorded.
	Status StatusSink
	// Log receives the adapter's lines; nil: slog.Default(). The gateway
	// passes its own, which pseudonymises citizens' identifiers.
	Log *slog.Logger
}

// Handler is the Twilio SMS and WhatsApp adapter.
type Handler struct {
	opts      Options
	validator client.RequestValidator
	log       *slog.Logger
}

var _ carrier.Carrier = (*Handler)(nil)

// New returns an adapter with opts, defaults filled in. It refuses to
// start without the public URL and auth token: without them no request
// could be told from a forgery.
func New(opts Options) (*Handler, error) {
	if opts.AuthToken == "" {
		return nil, errors.New("twilio: AuthToken is required (TWILIO_AUTH_TOKEN)")
	}
	u, err := url.Parse(opts.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("twilio: PublicURL must be the webhook's absolute http(s) URL (VENTANILLA_PUBLIC_URL + path)")
	}
	if opts.StatusURL == "" {
		opts.StatusURL = strings.TrimSuffix(opts.PublicURL, "/") + "/status"
	}
	if opts.Path == "" {
		opts.Path = "/sms/twilio"
	}
	if opts.StatusPath == "" {
		opts.StatusPath = strings.TrimSuffix(opts.Path, "/") + "/status"
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "EC"
	}
	return &Handler{
		opts:      opts,
		validator: client.NewRequestValidator(opts.AuthToken),
		log:       wire.Logger(opts.Log).With("carrier", Name),
	}, nil
}

// Name returns "twilio".
func (h *Handler) Name() string { return Name }

// StatusCallbackURL is the URL to give Twilio as a message's
// StatusCallback (SenderOptions.StatusCallback).
func (h *Handler) StatusCallbackURL() string { return h.opts.StatusURL }

// Mount registers the webhook (POST Path) and the status callback (POST
// StatusPath).
func (h *Handler) Mount(r carrier.Router, hop carrier.Hopper) {
	r.Add(http.MethodPost, h.opts.Path, func(c echo.Context) error { return h.serve(c, hop) })
	r.Add(http.MethodPost, h.opts.StatusPath, h.serveStatus)
}

// serve answers one incoming message: 413/415 for a body it cannot take,
// 403 for a missing or wrong signature before any field is looked at, 400
// for a malformed message, and otherwise 200 with TwiML, even when the
// gateway failed (wire.Hop's localised reply).
func (h *Handler) serve(c echo.Context, hop carrier.Hopper) error {
	values, err := wire.ReadForm(c, maxBody)
	if err != nil {
		return wire.Refuse(c, err)
	}
	if !h.verify(c, h.opts.PublicURL, values) {
		return forbidden(c)
	}
	in, err := h.ParseInbound(values)
	if err != nil {
		return wire.Refuse(c, err)
	}
	rep := wire.Hop(c.Request().Context(), hop, in, h.log)
	return writeTwiML(c, in, rep)
}

// verify checks X-Twilio-Signature for the configured URL and the POST
// parameters. twilio-go signs one value per name, so the first value of
// each is used; a repeated field the adapter reads is refused afterwards
// by the field checks.
func (h *Handler) verify(c echo.Context, publicURL string, v url.Values) bool {
	sig := c.Request().Header.Get(SignatureHeader)
	if sig == "" {
		return false
	}
	params := make(map[string]string, len(v))
	for k, vals := range v {
		params[k] = vals[0]
	}
	return h.validator.Validate(publicURL, params, sig)
}

func forbidden(c echo.Context) error {
	return c.String(http.StatusForbidden, "forbidden\n")
}

// ParseInbound validates an incoming message's fields and builds the
// Inbound. It is pure, so it can be fuzzed and reused by tools that replay
// captures; it does not check the signature. Fields the gateway does not
// need (media, location, profile name, NumSegments…) are ignored, as are
// fields Twilio adds without notice; a field that is read and sent twice
// is refused.
//
// SessionID stays empty: the gateway keys text conversations by channel
// and phone. ServiceCode is our number (To) without its channel prefix.
// Seq is derived from MessageSid (see seq).
func (h *Handler) ParseInbound(v url.Values) (carrier.Inbound, error) {
	var in carrier.Inbound
	msgSID, err := wire.Field(v, "MessageSid")
	if err != nil {
		return in, err
	}
	if msgSID, err = sid("MessageSid", msgSID, "SM", "MM"); err != nil {
		return in, err
	}
	acct, err := wire.Field(v, "AccountSid")
	if err != nil {
		return in, err
	}
	if _, err = sid("AccountSid", acct, "AC"); err != nil {
		return in, err
	}
	if svc, err := wire.Field(v, "MessagingServiceSid"); err != nil {
		return in, err
	} else if svc != "" {
		if _, err := sid("MessagingServiceSid", svc, "MG"); err != nil {
			return in, err
		}
	}

	from, err := wire.Field(v, "From")
	if err != nil {
		return in, err
	}
	fromChannel, fromAddr, err := address("From", from)
	if err != nil {
		return in, err
	}
	phone, err := wire.E164("From", fromAddr, h.opts.DefaultRegion)
	if err != nil {
		return in, err
	}
	to, err := wire.Field(v, "To")
	if err != nil {
		return in, err
	}
	toChannel, toAddr, err := address("To", to)
	if err != nil {
		return in, err
	}
	if toChannel != fromChannel {
		return in, &wire.FieldError{Field: "To", Reason: "not on the sender's channel"}
	}
	if len(toAddr) > wire.MaxServiceCode || !wire.VisibleASCII(toAddr) {
		return in, &wire.FieldError{Field: "To", Reason: "not a number or short code"}
	}

	body, err := wire.Field(v, "Body")
	if err != nil {
		return in, err
	}
	if body, err = wire.MessageText("Body", body, MaxText); err != nil {
		return in, err
	}

	in = carrier.Inbound{
		Channel:     "sms",
		Carrier:     Name,
		Phone:       phone,
		ServiceCode: toAddr,
		Input:       body,
		Seq:         wire.Seq(msgSID),
	}
	if fromChannel == WhatsApp {
		in.Channel, in.Carrier = "chat", WhatsApp
	}
	return in, nil
}

// writeTwiML answers with the reply as one <Message>, or an empty
// <Response/> when there is nothing to say.
func writeTwiML(c echo.Context, in carrier.Inbound, rep carrier.Reply) error {
	body := rep.Text
	if in.Channel == "chat" {
		body = chatText(rep)
	}
	body = wire.Outgoing(body, MaxText)
	var verbs []twiml.Element
	if strings.TrimSpace(body) != "" {
		verbs = append(verbs, twiml.MessagingMessage{Body: body})
	}
	doc, err := twiml.Messages(verbs)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", []byte(doc))
}
