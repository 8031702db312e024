package atsms

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Name is the adapter's and the sender's name, and the Carrier of its hops
// and messages; the USSD adapter is "africastalking".
const Name = "africastalking-sms"

// Outbox queues a message for a Sender and returns the queue's id for it.
// Queuing a message whose ID was queued before must not send it twice.
type Outbox interface {
	Enqueue(ctx context.Context, m carrier.Message) (string, error)
}

// Options configures the adapter.
type Options struct {
	// Outbox takes the replies. Required.
	Outbox Outbox
	// Path is the incoming-messages callback route (default
	// "/sms/africastalking").
	Path string
	// DefaultRegion is the ISO 3166 region used to read numbers without a
	// leading "+" (default "EC").
	DefaultRegion string
	// Log receives the adapter's lines; nil: slog.Default(). The gateway
	// passes its own, which pseudonymises citizens' identifiers.
	Log *slog.Logger
}

// Handler is the Africa's Talking two-way SMS adapter.
type Handler struct {
	opts Options
	log  *slog.Logger
}

var _ carrier.Carrier = (*Handler)(nil)

// New returns an adapter with opts, defaults filled in.
func New(opts Options) (*Handler, error) {
	if opts.Outbox == nil {
		return nil, errors.New("atsms: an Outbox is required: Africa's Talking replies go out through the SMS API")
	}
	if opts.Path == "" {
		opts.Path = "/sms/africastalking"
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "EC"
	}
	return &Handler{opts: opts, log: wire.Logger(opts.Log).With("carrier", Name)}, nil
}

// Name returns "africastalking-sms".
func (h *Handler) Name() string { return Name }

// Mount registers the incoming-messages callback (POST Path).
func (h *Handler) Mount(r carrier.Router, hop carrier.Hopper) {
	r.Add(http.MethodPost, h.opts.Path, func(c echo.Context) error { return h.serve(c, hop) })
}

// ReplyID is the idempotency key of the reply to AT's message id: the
// same for every delivery of one callback, so a repeated callback cannot
// make the citizen get the reply twice.
func ReplyID(messageID string) string { return Name + ":" + messageID + ":reply" }

// serve answers a callback: 400 (or 413/415) for a malformed one, which
// never reaches the gateway; 500 when the reply could not be queued, so
// that a callback AT sends again is not lost; 200 with an empty body
// otherwise. Our own failures still give the citizen a reply (wire.Hop).
func (h *Handler) serve(c echo.Context, hop carrier.Hopper) error {
	values, err := wire.ReadForm(c, maxBody)
	if err != nil {
		return wire.Refuse(c, err)
	}
	msg, err := h.Parse(values)
	if err != nil {
		return wire.Refuse(c, err)
	}
	ctx := c.Request().Context()
	rep := wire.Hop(ctx, hop, msg.Inbound, h.log)
	if body := wire.Outgoing(rep.Text, MaxText); strings.TrimSpace(body) != "" {
		m := carrier.Message{ID: ReplyID(msg.ID), Channel: "sms", Carrier: Name, To: msg.Inbound.Phone, Text: body}
		if _, err := h.opts.Outbox.Enqueue(ctx, m); err != nil {
			h.log.Error("reply not queued", "err", err)
			return c.String(http.StatusInternalServerError, "reply not queued\n")
		}
	}
	return c.NoContent(http.StatusOK)
}

// Message is one incoming SMS: the hop, and AT's ids for it.
type Message struct {
	Inbound carrier.Inbound
	ID      string // AT's id for the message
	LinkID  string // premium services' linkId; "" otherwise
}

// Parse validates one callback's fields (from, to, text, id; date,
// linkId and networkCode when sent) and builds the Message. It is pure, so
// it can be fuzzed and reused by tools that replay captures. Unknown
// fields are ignored; a field sent twice is refused.
//
// SessionID stays empty: the gateway keys SMS conversations by phone.
// ServiceCode is our short code or number (to); Seq is derived from id.
func (h *Handler) Parse(v url.Values) (Message, error) {
	var m Message
	from, err := wire.Field(v, "from")
	if err != nil {
		return m, err
	}
	phone, err := wire.E164("from", from, h.opts.DefaultRegion)
	if err != nil {
		return m, err
	}
	to, err := wire.Field(v, "to")
	if err != nil {
		return m, err
	}
	to = strings.TrimSpace(to)
	switch {
	case to == "":
		return m, &wire.FieldError{Field: "to", Reason: "missing"}
	case len(to) > wire.MaxServiceCode || !wire.VisibleASCII(to):
		return m, &wire.FieldError{Field: "to", Reason: "not a short code or number"}
	}
	_, sent := v["text"]
	body, err := wire.Field(v, "text")
	if err != nil {
		return m, err
	}
	if !sent {
		return m, &wire.FieldError{Field: "text", Reason: "missing"}
	}
	if body, err = wire.MessageText("text", body, MaxText); err != nil {
		return m, err
	}
	raw, err := wire.Field(v, "id")
	if err != nil {
		return m, err
	}
	if m.ID, err = id("id", raw, true); err != nil {
		return m, err
	}
	raw, err = wire.Field(v, "linkId")
	if err != nil {
		return m, err
	}
	if m.LinkID, err = id("linkId", raw, false); err != nil {
		return m, err
	}
	for _, name := range []string{"date", "networkCode"} {
		s, err := wire.Field(v, name)
		if err != nil {
			return m, err
		}
		if len(s) > 64 || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return m, &wire.FieldError{Field: name, Reason: "malformed"}
		}
	}
	m.Inbound = carrier.Inbound{
		Channel:     "sms",
		Carrier:     Name,
		Phone:       phone,
		ServiceCode: to,
		Input:       body,
		Seq:         wire.Seq(m.ID),
	}
	return m, nil
}
