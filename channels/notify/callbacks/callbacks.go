package callbacks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Event is what an institution hears: its id is the same at every
// attempt, and at every push of the same fact, so that the institution
// can dedupe; Data depends on Type.
type Event struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Institution string          `json:"institution"`
	Created     time.Time       `json:"created"`
	Data        json.RawMessage `json:"data"`
}

// Types of events.
const (
	// TypeNotificationStatus: a notification reached a final status
	// (delivered, or failed), from the carrier's delivery receipt or the
	// queue giving up.
	TypeNotificationStatus = "notification.status"
	// TypeReply: a citizen answered a notification or a reminder.
	TypeReply = "reply"
	// TypeReplyOutcome: what a reply came to, once its flow ended.
	TypeReplyOutcome = "reply.outcome"
)

// MaxReplyText is the most of a reply's text an event carries, in
// characters.
const MaxReplyText = 300

// Reply is the data of a reply event. It never holds the citizen's
// number: the question's id (a reminder's or a notification's) and the
// booking's key say whom it is about.
type Reply struct {
	Kind       string    `json:"kind"` // reminder, notification
	QuestionID string    `json:"question_id"`
	BookingKey string    `json:"booking_key,omitempty"`
	Text       string    `json:"text"`
	Channel    string    `json:"channel"`
	Received   time.Time `json:"received"`
}

// ReplyOutcome is the data of a reply.outcome event.
type ReplyOutcome struct {
	Kind       string `json:"kind"`
	QuestionID string `json:"question_id"`
	BookingKey string `json:"booking_key,omitempty"`
	Outcome    string `json:"outcome"` // confirmed, cancelled
}

// Endpoint is where and how an institution hears back.
type Endpoint struct {
	URL    string
	Secret Secret
}

// Secret is an institution's signing key. It prints as "[redacted]",
// in logs and in errors alike.
type Secret []byte

func (Secret) String() string               { return "[redacted]" }
func (Secret) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (Secret) GoString() string             { return "[redacted]" }
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[redacted]")) }

// Observer hears what happens to callbacks, for metrics: outcome is
// "attempted" (an attempt starts), "delivered" or "failed" (given up).
type Observer interface {
	Callback(institution, outcome string)
}

// Limits and defaults.
const (
	MaxPayload         = 64 << 10 // bytes of an event's body
	MinSecret          = 32       // bytes of a secret
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 10
	DefaultMaxAge      = 24 * time.Hour
	DefaultRetain      = 7 * 24 * time.Hour
	DefaultWorkers     = 16
	// DefaultPerInstitution is how many attempts to one institution may
	// be in flight at once: a hanging endpoint holds at most these
	// workers, never all of them.
	DefaultPerInstitution = 4
	DefaultEvery          = time.Second
	// maxError is the longest last error kept.
	maxError = 200
	// maxResponse is how much of the institution's answer is read; the
	// rest is not waited for.
	maxResponse = 4 << 10
)

// The default Backoff's curve: 10s, 20s, 40s … up to an hour, each wait
// drawn within ±50% of it. Ten attempts span about two and a half hours.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = time.Hour
	backoffJitter  = 0.5
)

// Backoff is the default wait after failed attempt number attempt (1, 2,
// …): cenkalti/backoff's ExponentialBackOff, advanced to the attempt. Not
// its Retry loop: a retry must survive a restart, so the wait is kept in
// the store, not in a goroutine.
func Backoff(attempt int) time.Duration {
	b := exponential(attempt)
	b.RandomizationFactor = backoffJitter
	return b.NextBackOff()
}

// BackoffInterval is the interval Backoff draws around after attempt.
func BackoffInterval(attempt int) time.Duration { return exponential(attempt).NextBackOff() }

func exponential(attempt int) *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{InitialInterval: backoffInitial, Multiplier: 2, MaxInterval: backoffMax}
	for range min(max(attempt, 1), 20) - 1 {
		b.NextBackOff()
	}
	return b
}

// Options configures New.
type Options struct {
	Store Store
	// Endpoint returns where institution hears back, read at each
	// attempt (a reload may change it); false when it has no callback.
	Endpoint func(institution string) (Endpoint, bool)
	// Client makes the requests (default: one that follows no redirect;
	// a signed body is not handed to wherever a 3xx points).
	Client         *http.Client
	Timeout        time.Duration // of one attempt (default 10s)
	MaxAttempts    int           // default 10
	MaxAge         time.Duration // after the push, no attempt starts (default 24h)
	Retain         time.Duration // how long a finished delivery is shown (default 7 days)
	Workers        int           // attempts in flight at once (default 16)
	PerInstitution int           // of them, to one institution (default 4)
	Every          time.Duration // how often other instances' pushes are looked for (default 1s)
	// Backoff is the wait after failed attempt n (default Backoff).
	Backoff func(n int) time.Duration
	// Lease is how long a claimed delivery is hidden from other claims;
	// longer than an attempt (default Timeout + 30s).
	Lease    time.Duration
	Now      func() time.Time
	Sleep    func(ctx context.Context, d time.Duration) error
	Observer Observer
	Log      *slog.Logger
}

// Callbacks pushes events to institutions.
type Callbacks struct {
	o      Options
	wake   chan struct{}
	mu     sync.Mutex
	flying map[string]int // institution → attempts in flight
}

// New checks opts and returns the pusher; Run does the pushing.
func New(opts Options) (*Callbacks, error) {
	if opts.Store == nil || opts.Endpoint == nil {
		return nil, errors.New("callbacks: a store and the institutions' endpoints are needed")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Retain <= 0 {
		opts.Retain = DefaultRetain
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.PerInstitution <= 0 {
		opts.PerInstitution = DefaultPerInstitution
	}
	if opts.Every <= 0 {
		opts.Every = DefaultEvery
	}
	if opts.Backoff == nil {
		opts.Backoff = Backoff
	}
	if opts.Lease <= 0 {
		opts.Lease = opts.Timeout + 30*time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Client == nil {
		opts.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Callbacks{o: opts, wake: make(chan struct{}, 1), flying: map[string]int{}}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ErrNoEndpoint: the institution has no callback; nothing is pushed and
// it polls instead.
var ErrNoEndpoint = errors.New("callbacks: the institution has no callback")

// Push keeps ev for the institution's endpoint and returns at once: the
// attempts are Run's. Pushing an event id again changes nothing, so a
// fact reported twice (a carrier's receipt repeated) is pushed once.
func (c *Callbacks) Push(ctx context.Context, institution string, ev Event) error {
	if ev.ID == "" || len(ev.ID) > 200 || ev.Type == "" {
		return errors.New("callbacks: an event needs an id (at most 200 bytes) and a type")
	}
	if _, ok := c.o.Endpoint(institution); !ok {
		return ErrNoEndpoint
	}
	ev.Institution = institution
	now := c.o.Now()
	if ev.Created.IsZero() {
		ev.Created = now
	}
	ev.Created = ev.Created.UTC().Truncate(time.Millisecond)
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("callbacks: encoding the event: %w", err)
	}
	if len(body) > MaxPayload {
		return fmt.Errorf("callbacks: event of %d bytes; the limit is %d", len(body), MaxPayload)
	}
	d := Delivery{ID: ev.ID, Institution: institution, Body: body, State: StatePending, Created: now, Updated: now, Next: now}
	if _, err := c.o.Store.Add(ctx, d, c.o.Retain+c.o.MaxAge); err != nil {
		return err
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// Status is what GET shows of a delivery.
type Status struct {
	State     string
	Attempts  int
	LastError string
	Updated   time.Time
	Next      time.Time // while pending
}

// Status reports the delivery of event id, or ErrNotFound.
func (c *Callbacks) Status(ctx context.Context, id string) (Status, error) {
	d, err := c.o.Store.Get(ctx, id)
	if err != nil {
		return Status{}, err
	}
	st := Status{State: d.State, Attempts: d.Attempts, LastError: d.LastError, Updated: d.Updated}
	if d.State == StatePending {
		st.Next = d.Next
	}
	return st, nil
}

// Run attempts due deliveries until ctx ends, then waits for the
// attempts in flight (each bounded by Timeout).
func (c *Callbacks) Run(ctx context.Context) error {
	sem := make(chan struct{}, c.o.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		free := c.o.Workers - len(sem)
		var claimed []Claim
		if free > 0 {
			var err error
			claimed, err = c.o.Store.Claim(ctx, c.o.Now(), c.o.Lease, free)
			if err != nil && ctx.Err() == nil {
				c.o.Log.Warn("callbacks: due deliveries not read; trying again", "err", err)
			}
		}
		for _, cl := range claimed {
			if !c.take(cl.Institution) {
				// Its institution has enough in flight: back in a moment,
				// not counted as an attempt.
				d := cl.Delivery
				d.Next = c.o.Now().Add(c.o.Every)
				c.update(ctx, cl, d)
				continue
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem; c.release(cl.Institution) }()
				c.attempt(ctx, cl)
			})
		}
		if len(claimed) == free && free > 0 {
			continue // more may be due
		}
		wait, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-c.wake:
				cancel()
			case <-wait.Done():
			}
		}()
		_ = c.o.Sleep(wait, c.o.Every)
		cancel()
	}
	return nil
}

func (c *Callbacks) take(inst string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flying[inst] >= c.o.PerInstitution {
		return false
	}
	c.flying[inst]++
	return true
}

func (c *Callbacks) release(inst string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flying[inst]--; c.flying[inst] <= 0 {
		delete(c.flying, inst)
	}
}

// attempt pushes one claimed delivery once and records the outcome.
func (c *Callbacks) attempt(ctx context.Context, cl Claim) {
	d := cl.Delivery
	now := c.o.Now()
	ep, ok := c.o.Endpoint(d.Institution)
	switch {
	case !ok:
		c.finish(ctx, cl, d, StateFailed, "the institution no longer has a callback")
		return
	case now.Sub(d.Created) > c.o.MaxAge:
		c.finish(ctx, cl, d, StateFailed, fmt.Sprintf("gave up after %d attempts: older than %s; %s", d.Attempts, c.o.MaxAge, d.LastError))
		return
	}
	d.Attempts++
	if c.o.Observer != nil {
		c.o.Observer.Callback(d.Institution, "attempted")
	}
	err := c.post(ctx, ep, d)
	if ctx.Err() != nil {
		// Shutting down mid-attempt: the lease runs out and another
		// attempt follows; the institution dedupes if this one landed.
		return
	}
	if err == nil {
		c.finish(ctx, cl, d, StateDelivered, "")
		return
	}
	msg := truncate(err.Error(), maxError)
	next := c.o.Now().Add(c.o.Backoff(d.Attempts))
	switch {
	case d.Attempts >= c.o.MaxAttempts:
		c.finish(ctx, cl, d, StateFailed, fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, msg))
	case next.Sub(d.Created) > c.o.MaxAge:
		c.finish(ctx, cl, d, StateFailed, fmt.Sprintf("gave up after %d attempts, the next would be older than %s: %s", d.Attempts, c.o.MaxAge, msg))
	default:
		d.LastError, d.Next, d.Updated = msg, next, c.o.Now()
		c.o.Log.Info("callbacks: attempt failed; retrying", "event_id", d.ID, "institution", d.Institution, "attempt", d.Attempts, "next", next, "err", msg)
		c.update(ctx, cl, d)
	}
}

func (c *Callbacks) finish(ctx context.Context, cl Claim, d Delivery, state, msg string) {
	d.State, d.Updated, d.Next = state, c.o.Now(), time.Time{}
	if msg != "" {
		d.LastError = truncate(msg, maxError)
	}
	if state == StateFailed {
		c.o.Log.Warn("callbacks: gave up", "event_id", d.ID, "institution", d.Institution, "attempts", d.Attempts, "err", d.LastError)
	}
	if c.update(ctx, cl, d) && c.o.Observer != nil {
		c.o.Observer.Callback(d.Institution, state)
	}
}

// update records d under cl; false when it could not.
func (c *Callbacks) update(ctx context.Context, cl Claim, d Delivery) bool {
	// Recorded even when shutting down: the outcome is known.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := c.o.Store.Update(wctx, cl, d, c.o.Retain)
	switch {
	case errors.Is(err, errLost):
		c.o.Log.Warn("callbacks: lease ran out during an attempt; another claim holds the event", "event_id", d.ID, "institution", d.Institution)
		return false
	case err != nil:
		c.o.Log.Warn("callbacks: outcome not recorded; the event is attempted again when its lease runs out", "event_id", d.ID, "institution", d.Institution, "err", err)
		return false
	}
	return true
}

// post sends the delivery's body signed now; nil when answered 2xx.
func (c *Callbacks) post(ctx context.Context, ep Endpoint, d Delivery) error {
	actx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, ep.URL, bytes.NewReader(d.Body))
	if err != nil {
		return errors.New("callback URL unusable")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Ventanilla-Callbacks/1")
	req.Header.Set(EventHeader, d.ID)
	req.Header.Set(SignatureHeader, Sign(ep.Secret, c.o.Now(), d.Body))
	resp, err := c.o.Client.Do(req)
	if err != nil {
		return describe(err, actx)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// describe names a transport error without the URL (which an operator
// knows) and without anything of the body.
func describe(err error, ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errors.New("no answer within the attempt's timeout")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return fmt.Errorf("%s: %v", ne.Op, ne.Err)
	}
	return err
}

func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// CheckURL is the rule for a callback URL: https, or http to a loopback
// host (a test endpoint, or a proxy beside the gateway that adds TLS); no
// user or password in it, no fragment.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URL like https://api.example.gob.ec/ventanilla/callbacks", raw)
	}
	if u.User != nil {
		return errors.New("a callback URL carries no user or password: the signature authenticates the gateway")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("a callback URL has no fragment (#…)")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: callbacks go over https; http only to a loopback host (localhost, 127.0.0.1, ::1)", raw)
	}
	return fmt.Errorf("%q: the scheme must be https", raw)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
