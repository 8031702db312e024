package atsms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Africa's Talking's SMS API hosts.
const (
	ProductionURL = "https://api.africastalking.com"
	SandboxURL    = "https://api.sandbox.africastalking.com"
)

// DefaultTimeout bounds one Send when SenderOptions.HTTPClient is nil.
const DefaultTimeout = 15 * time.Second

// maxAnswer bounds the API's answer; one recipient's is a few hundred bytes.
const maxAnswer = 64 << 10

// SenderOptions configures a Sender.
type SenderOptions struct {
	// Username is the AT application's username (AT_USERNAME); "sandbox"
	// for the sandbox. Required.
	Username string
	// APIKey is the application's API key (AT_API_KEY). Required.
	APIKey string
	// From is our short code or alphanumeric sender id; "" lets AT use
	// the account's default.
	From string
	// BaseURL is the API host: ProductionURL by default, SandboxURL when
	// Username is "sandbox"; a test double's URL in tests.
	BaseURL string
	// HTTPClient carries the requests; nil uses a client with
	// DefaultTimeout. Its Timeout and the caller's context both bound a Send.
	HTTPClient *http.Client
}

// Sender sends SMS through Africa's Talking's SMS API
// (POST {BaseURL}/version1/messaging).
type Sender struct {
	opts     SenderOptions
	endpoint string
	client   *http.Client
}

var _ carrier.Sender = (*Sender)(nil)

// NewSender returns a Sender, or an error naming what opts lacks.
func NewSender(opts SenderOptions) (*Sender, error) {
	if opts.Username == "" || !wire.VisibleASCII(opts.Username) {
		return nil, errors.New("atsms: Username is required (AT_USERNAME; \"sandbox\" for the sandbox)")
	}
	if opts.APIKey == "" || !wire.VisibleASCII(opts.APIKey) {
		return nil, errors.New("atsms: APIKey is required (AT_API_KEY)")
	}
	if opts.From != "" && (len(opts.From) > 16 || !wire.VisibleASCII(opts.From)) {
		return nil, errors.New("atsms: From must be a short code or an alphanumeric sender id")
	}
	base := opts.BaseURL
	if base == "" {
		base = ProductionURL
		if opts.Username == "sandbox" {
			base = SandboxURL
		}
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("atsms: BaseURL must be an absolute http(s) URL")
	}
	s := &Sender{opts: opts, endpoint: strings.TrimSuffix(base, "/") + "/version1/messaging", client: opts.HTTPClient}
	if s.client == nil {
		s.client = &http.Client{Timeout: DefaultTimeout}
	}
	return s, nil
}

// Name returns "africastalking-sms", the Carrier of the messages it
// carries.
func (s *Sender) Name() string { return Name }

// Send delivers m; see SendID.
func (s *Sender) Send(ctx context.Context, m carrier.Message) error {
	_, err := s.SendID(ctx, m)
	return err
}

// SendID delivers m and returns AT's messageId for it, the id AT's
// delivery reports carry. Success (statusCode 100 Processed, 101 Sent,
// 102 Queued) means AT took the message, not that it reached the handset.
//
// Errors: a *carrier.RetryableError for HTTP 429 (with its Retry-After),
// 408 and 5xx, AT's statusCode 500 InternalServerError, 501 GatewayError
// and 502 RejectedByGateway, timeouts and network failures; anything else
// (401 RiskHold, 402 InvalidSenderId, 403 InvalidPhoneNumber, 404
// UnsupportedNumberType, 405 InsufficientBalance, 406 UserInBlacklist, 407
// CouldNotRoute, other HTTP 4xx such as a wrong API key, the caller's
// cancellation) will fail again the same way. Both wrap a *SendError. The
// API takes no idempotency key, so a retry after a timeout may send twice.
func (s *Sender) SendID(ctx context.Context, m carrier.Message) (string, error) {
	form, err := s.form(m)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &SendError{Reason: "bad request: " + err.Error()}
	}
	req.Header.Set("apiKey", s.opts.APIKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	resp, err := s.client.Do(req)
	if err != nil {
		return "", transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err == nil && ctx.Err() != nil {
		// The caller gave up while the body was arriving: what was read
		// may be cut short, and the caller's reason is the one to report.
		err = ctx.Err()
	}
	if err != nil {
		return "", transportError(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &SendError{Status: resp.StatusCode}
		if wire.RetryableStatus(resp.StatusCode) {
			return "", &carrier.RetryableError{Err: se, After: wire.RetryAfter(resp.Header.Get("Retry-After"), time.Now())}
		}
		return "", se
	}
	return answer(resp.StatusCode, body)
}

// form checks m and builds the request body.
func (s *Sender) form(m carrier.Message) (url.Values, error) {
	if m.Carrier != "" && m.Carrier != Name {
		return nil, &SendError{Reason: "message for carrier " + strconv.Quote(m.Carrier)}
	}
	if !strings.HasPrefix(m.To, "+") {
		return nil, &SendError{Reason: "to: not an E.164 number"}
	}
	to, err := wire.E164("to", m.To, "EC")
	if err != nil {
		return nil, &SendError{Reason: "to: not an E.164 number"}
	}
	switch {
	case strings.TrimSpace(m.Text) == "":
		return nil, &SendError{Reason: "text: empty"}
	case !utf8.ValidString(m.Text) || strings.ContainsFunc(m.Text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' }):
		return nil, &SendError{Reason: "text: not valid UTF-8 or has control characters"}
	case utf8.RuneCountInString(m.Text) > MaxText:
		return nil, &SendError{Reason: "text: longer than " + strconv.Itoa(MaxText) + " characters"}
	}
	v := url.Values{"username": {s.opts.Username}, "to": {to}, "message": {m.Text}}
	if s.opts.From != "" {
		v.Set("from", s.opts.From)
	}
	return v, nil
}

// sendAnswer is the API's documented JSON answer.
type sendAnswer struct {
	SMSMessageData struct {
		Message    string
		Recipients []struct {
			StatusCode flexInt `json:"statusCode"`
			Status     string  `json:"status"`
			MessageID  string  `json:"messageId"`
		}
	}
}

// answer reads a 2xx answer: the one recipient's statusCode decides.
func answer(status int, body []byte) (string, error) {
	var a sendAnswer
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&a); err != nil {
		// Taken or not, nobody can tell; a duplicate beats a lost reply.
		return "", &carrier.RetryableError{Err: &SendError{Status: status, Reason: "unreadable answer", Err: err}}
	}
	rs := a.SMSMessageData.Recipients
	if len(rs) == 0 {
		return "", &SendError{Status: status, Reason: "no recipient accepted: " + printable(a.SMSMessageData.Message)}
	}
	r := rs[0]
	code := int(r.StatusCode)
	switch {
	case code >= 100 && code <= 102:
		return r.MessageID, nil
	case code >= 500:
		return "", &carrier.RetryableError{Err: &SendError{Status: status, Code: code, Reason: printable(r.Status)}}
	}
	return "", &SendError{Status: status, Code: code, Reason: printable(r.Status)}
}

// flexInt reads a JSON number, or a number in a string.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("statusCode: %q is not a number", s)
	}
	*f = flexInt(n)
	return nil
}

// transportError wraps a failed round trip. A caller that cancelled gets
// a non-retryable error wrapping context.Canceled; timeouts and network
// faults are retryable.
// printable keeps AT's words short and printable for logs and errors.
func printable(s string) string { return wire.Printable(s, 80) }

func transportError(ctx context.Context, err error) error {
	cause, retryable := wire.NoAnswer(ctx, err)
	se := &SendError{Reason: "no answer: " + cause.Error(), Err: cause}
	if !retryable {
		return se
	}
	return &carrier.RetryableError{Err: se}
}

// SendError is a failed Send. It never carries the message text, the
// number or the API key.
type SendError struct {
	Status int    // HTTP status; 0 when no answer came
	Code   int    // AT's statusCode for the recipient (401 RiskHold…); 0 when none
	Reason string // AT's status word, or what went wrong on the way
	Err    error  // the underlying error, if any
}

func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("africastalking sms send")
	if e.Status != 0 {
		b.WriteString(": HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	if e.Code != 0 {
		b.WriteString(": statusCode ")
		b.WriteString(strconv.Itoa(e.Code))
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

func (e *SendError) Unwrap() error { return e.Err }
