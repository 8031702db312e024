package twilio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// DefaultTimeout bounds one Send when SenderOptions.HTTPClient sets none.
const DefaultTimeout = 15 * time.Second

// SenderOptions configures a Sender.
type SenderOptions struct {
	// AccountSID and AuthToken are the account's credentials
	// (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN). Required.
	AccountSID string
	AuthToken  string
	// From is our number or short code ("+14155238886"), without any
	// "whatsapp:" prefix. MessagingServiceSID ("MG…"), when set, is used
	// instead and Twilio picks the sender. One of the two is required.
	From                string
	MessagingServiceSID string
	// StatusCallback is where Twilio reports the message's status
	// (Handler.StatusCallbackURL); "" asks for no callbacks.
	StatusCallback string
	// WhatsApp makes this the WhatsApp sender: named "whatsapp", with
	// "whatsapp:" addresses, and buttons written as numbered lines.
	WhatsApp bool
	// BaseURL replaces https://api.twilio.com (scheme, host and a path
	// prefix), for a test double or a Twilio-compatible proxy; "" talks to
	// Twilio.
	BaseURL string
	// HTTPClient's Transport carries the requests and its Timeout bounds
	// each Send (DefaultTimeout when zero); redirects are never followed.
	// Nil uses http.DefaultTransport.
	HTTPClient *http.Client
	// Log receives the adapter's lines; nil: slog.Default(). The gateway
	// passes its own, which pseudonymises citizens' identifiers.
	Log *slog.Logger
}

// Sender sends SMS or WhatsApp messages through Twilio's Messages API
// (twilio-go's rest/api/v2010 CreateMessage).
type Sender struct {
	opts      SenderOptions
	base      *url.URL // nil: Twilio itself
	transport http.RoundTripper
	timeout   time.Duration
	log       *slog.Logger
}

var _ carrier.Sender = (*Sender)(nil)

// NewSender returns a Sender, or an error naming what opts lacks.
func NewSender(opts SenderOptions) (*Sender, error) {
	if _, err := sid("AccountSID", opts.AccountSID, "AC"); err != nil {
		return nil, fmt.Errorf("twilio: %w", err)
	}
	// twilio-go refuses credentials that are not alphanumeric, at send
	// time; saying so at start is kinder.
	if opts.AuthToken == "" || strings.ContainsFunc(opts.AuthToken, func(r rune) bool {
		return r > unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		return nil, errors.New("twilio: AuthToken must be the account's alphanumeric auth token")
	}
	switch {
	case opts.MessagingServiceSID != "":
		if _, err := sid("MessagingServiceSID", opts.MessagingServiceSID, "MG"); err != nil {
			return nil, fmt.Errorf("twilio: %w", err)
		}
	case opts.From == "" || strings.Contains(opts.From, ":") || !wire.VisibleASCII(opts.From):
		return nil, errors.New("twilio: From (our number, without a channel prefix) or MessagingServiceSID is required")
	}
	s := &Sender{opts: opts, transport: http.DefaultTransport, timeout: DefaultTimeout}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("twilio: BaseURL must be an absolute http(s) URL")
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		s.base = u
	}
	if c := opts.HTTPClient; c != nil {
		if c.Transport != nil {
			s.transport = c.Transport
		}
		if c.Timeout > 0 {
			s.timeout = c.Timeout
		}
	}
	s.log = wire.Logger(opts.Log).With("carrier", s.Name())
	return s, nil
}

// Name returns "twilio", or "whatsapp" for the WhatsApp sender: the
// Carrier of the messages it carries.
func (s *Sender) Name() string {
	if s.opts.WhatsApp {
		return WhatsApp
	}
	return Name
}

// Send delivers m; see SendID.
func (s *Sender) Send(ctx context.Context, m carrier.Message) error {
	_, err := s.SendID(ctx, m)
	return err
}

// SendID delivers m and returns Twilio's SID for it, the id its status
// callbacks carry. Success means Twilio accepted the message (queued), not
// that it reached the handset.
//
// Errors: a *carrier.RetryableError for 429 (with its Retry-After), 408,
// 5xx, timeouts and network failures; anything else (other 4xx, a message
// that cannot be sent as it is, the caller's cancellation) will fail again
// the same way. Both wrap a *SendError. Twilio's Messages API takes no
// idempotency key, so a retry after a timeout may send the message twice;
// a 429 is never processed and is always safe to retry.
func (s *Sender) SendID(ctx context.Context, m carrier.Message) (string, error) {
	params, err := s.params(m)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	rt := &roundTrip{ctx: ctx, next: s.transport, base: s.base}
	c := &client.Client{
		Credentials: client.NewCredentials(s.opts.AccountSID, s.opts.AuthToken),
		HTTPClient: &http.Client{
			Transport:     rt,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(s.opts.AccountSID)
	// A RequestHandler of our own, not client.NewRequestHandler: that one
	// reads TWILIO_EDGE and TWILIO_REGION from the environment.
	msg, err := api.NewApiService(&client.RequestHandler{Client: c}).CreateMessage(params)
	if err != nil {
		return "", s.classify(ctx, rt, err)
	}
	if msg.Sid == nil || *msg.Sid == "" {
		s.log.Warn("message accepted without a SID; its status cannot be tracked")
		return "", nil
	}
	return *msg.Sid, nil
}

// params checks m and builds the request.
func (s *Sender) params(m carrier.Message) (*api.CreateMessageParams, error) {
	if m.Carrier != "" && m.Carrier != s.Name() {
		return nil, &SendError{Reason: "message for carrier " + strconv.Quote(m.Carrier)}
	}
	if !strings.HasPrefix(m.To, "+") {
		return nil, &SendError{Reason: "to: not an E.164 number"}
	}
	to, err := wire.E164("to", m.To, "EC")
	if err != nil {
		return nil, &SendError{Reason: "to: not an E.164 number"}
	}
	body := m.Text
	if s.opts.WhatsApp {
		body = chatText(carrier.Reply{Text: m.Text, Buttons: m.Buttons})
	}
	switch {
	case strings.TrimSpace(body) == "":
		return nil, &SendError{Reason: "text: empty"}
	case !utf8.ValidString(body) || strings.ContainsFunc(body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' }):
		return nil, &SendError{Reason: "text: not valid UTF-8 or has control characters"}
	case utf8.RuneCountInString(body) > MaxText:
		return nil, &SendError{Reason: "text: longer than " + strconv.Itoa(MaxText) + " characters"}
	}

	p := &api.CreateMessageParams{}
	p.SetBody(body)
	if s.opts.WhatsApp {
		p.SetTo("whatsapp:" + to)
	} else {
		p.SetTo(to)
	}
	if s.opts.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(s.opts.MessagingServiceSID)
	} else if s.opts.WhatsApp {
		p.SetFrom("whatsapp:" + s.opts.From)
	} else {
		p.SetFrom(s.opts.From)
	}
	if s.opts.StatusCallback != "" {
		p.SetStatusCallback(s.opts.StatusCallback)
	}
	return p, nil
}

// classify turns twilio-go's error into a SendError, retryable or not.
// twilio-go drops the response's status line and headers on errors, so
// roundTrip keeps them.
func (s *Sender) classify(ctx context.Context, rt *roundTrip, err error) error {
	se := &SendError{Status: rt.status, Err: err}
	if re, ok := errors.AsType[*client.TwilioRestError](err); ok {
		se.Code = re.Code
		if se.Status == 0 {
			se.Status = re.Status
		}
	}
	switch {
	case rt.status == 0 && se.Status != 0:
		// twilio-go refused before sending (its credential check): no
		// HTTP status came back, whatever its error says.
		se.Status, se.Reason = 0, "refused by twilio-go before sending"
		return se
	case rt.status == 0:
		cause, retryable := wire.NoAnswer(ctx, err)
		se.Err, se.Reason = cause, "no answer: "+cause.Error()
		if !retryable {
			return se
		}
		return &carrier.RetryableError{Err: se}
	case rt.status >= 200 && rt.status < 300:
		se.Reason = "unreadable answer"
		return &carrier.RetryableError{Err: se}
	// 429 is never processed by Twilio (error 20429); 21211 invalid To,
	// 21610 unsubscribed or 20003 credentials fail again the same way.
	case wire.RetryableStatus(rt.status):
		return &carrier.RetryableError{Err: se, After: wire.RetryAfter(rt.retryAfter, time.Now())}
	}
	return se
}

// SendError is a failed Send. It never carries the message text, the
// number or Twilio's error message (which may quote the number): the
// outbox logs these.
type SendError struct {
	Status int    // HTTP status; 0 when no answer came
	Code   int    // Twilio's error code (https://www.twilio.com/docs/errors/<code>); 0 when none
	Reason string // what went wrong, when Status and Code do not say
	Err    error  // the underlying error, if any
}

func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("twilio send")
	if e.Status != 0 {
		b.WriteString(": HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	if e.Code != 0 {
		b.WriteString(": error ")
		b.WriteString(strconv.Itoa(e.Code))
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

func (e *SendError) Unwrap() error { return e.Err }

// roundTrip carries one Send's requests: it gives them the Send's context
// (twilio-go builds its requests without one), points them at BaseURL when
// set, and keeps the answer's status and Retry-After.
type roundTrip struct {
	ctx  context.Context
	next http.RoundTripper
	base *url.URL

	status     int
	retryAfter string
}

func (t *roundTrip) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(t.ctx)
	if t.base != nil {
		req.URL.Scheme, req.URL.Host = t.base.Scheme, t.base.Host
		req.URL.Path = t.base.Path + req.URL.Path
		req.URL.RawPath = ""
		req.Host = ""
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		t.status, t.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	}
	return resp, err
}
