package kannel

import (
	"context"
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
)

// Send errors are classified the way a retrying outbox needs them:
// errors.Is(err, ErrRetryable) for failures that may pass later (network,
// timeouts, Kannel's 5xx: bearerbox unreachable or "Temporal failure"),
// errors.Is(err, ErrRejected) for ones that never will (bad credentials,
// bad fields, "Not routable. Do not try again.").
var (
	ErrRetryable = errors.New("kannel: temporary failure")
	ErrRejected  = errors.New("kannel: rejected")
)

// SendError is a failed Send. Message is Kannel's own answer, cut short,
// or what went wrong on the way; it never holds the password.
type SendError struct {
	StatusCode int // 0 when no HTTP answer came
	Message    string
	Retryable  bool
	Err        error // the transport or context error, if any
}

func (e *SendError) Error() string {
	s := "kannel sendsms: "
	if e.StatusCode != 0 {
		s += strconv.Itoa(e.StatusCode) + " "
	}
	return s + e.Message
}

// Is makes errors.Is(err, ErrRetryable) and errors.Is(err, ErrRejected)
// work on a *SendError.
func (e *SendError) Is(target error) bool {
	return (target == ErrRetryable && e.Retryable) || (target == ErrRejected && !e.Retryable)
}

func (e *SendError) Unwrap() error { return e.Err }

// Sender sends SMS through smsbox's sendsms interface
// (GET BaseURL/cgi-bin/sendsms).
type Sender struct {
	BaseURL  string // smsbox's sendsms-port, e.g. "http://127.0.0.1:13013" (or with its path, /cgi-bin/sendsms)
	Username string // a sendsms-user group
	Password string
	From     string // sender shown to the citizen; "" uses the user's default-sender
	SMSC     string // smsc-id to route through; "" lets Kannel route
	// HTTPClient defaults to a client with a 15 s timeout; ctx bounds
	// each Send as well.
	HTTPClient *http.Client
}

var defaultClient = &http.Client{Timeout: 15 * time.Second}

// Send asks Kannel to deliver text to to (E.164). Text that GSM-7 cannot
// carry goes as UCS-2 (coding 2); Kannel converts it from UTF-8 (charset)
// and splits long text into concatenated parts, up to the sendsms-user's
// max-messages. Success means bearerbox accepted the message (202
// "Accepted for delivery" or "Queued for later delivery"), not that it
// reached the handset.
func (s *Sender) Send(ctx context.Context, to, text string) error {
	if err := checkSend(to, text); err != nil {
		return err
	}
	q := url.Values{}
	q.Set("username", s.Username)
	q.Set("password", s.Password)
	q.Set("to", to)
	q.Set("text", text)
	q.Set("coding", strconv.Itoa(codingFor(text)))
	q.Set("charset", "UTF-8")
	if s.From != "" {
		q.Set("from", s.From)
	}
	if s.SMSC != "" {
		q.Set("smsc", s.SMSC)
	}
	// The base URL may be written with the path, as Kannel's
	// documentation writes the sendsms URL; it is added only once.
	base := strings.TrimSuffix(strings.TrimSuffix(s.BaseURL, "/"), "/cgi-bin/sendsms")
	endpoint := base + "/cgi-bin/sendsms?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		// The URL holds the password: describe, never quote it.
		return &SendError{Message: "bad BaseURL", Retryable: false}
	}
	client := s.HTTPClient
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &SendError{
		StatusCode: resp.StatusCode,
		Message:    wire.Printable(string(body), 200),
		// Kannel answers 503 for a temporary failure and 500 when it could
		// not queue the message; 403 (credentials, "Not routable"), 400 and
		// 404 fail again the same way.
		Retryable: wire.RetryableStatus(resp.StatusCode),
	}
}

// checkSend refuses what Kannel would refuse, or send wrongly, before any
// call: a number that is not E.164 (a space would make it a multi-send),
// and text that is empty, not UTF-8 or has control characters other than
// line breaks.
func checkSend(to, text string) error {
	digits, plus := strings.CutPrefix(to, "+")
	if !plus || len(digits) < 3 || len(digits) > 15 || strings.ContainsFunc(digits, notDigit) {
		return &SendError{Message: "to: not an E.164 number", Retryable: false}
	}
	if strings.TrimSpace(text) == "" {
		return &SendError{Message: "text: empty", Retryable: false}
	}
	if !utf8.ValidString(text) || strings.ContainsFunc(text, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r'
	}) {
		return &SendError{Message: "text: not valid UTF-8 or has control characters", Retryable: false}
	}
	return nil
}

// transportError wraps a failed round trip without its URL (which carries
// the password). A caller that cancelled gets a non-retryable error
// wrapping context.Canceled; timeouts and network faults are retryable.
func transportError(ctx context.Context, err error) error {
	cause, retryable := wire.NoAnswer(ctx, err)
	return &SendError{Message: fmt.Sprintf("no answer: %v", cause), Retryable: retryable, Err: cause}
}
