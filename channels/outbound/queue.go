package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/time/rate"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Queue sends messages through their carrier's Sender, once per ID.
type Queue interface {
	// Enqueue accepts m for sending and returns its ID. An ID the queue
	// already knows (queued, in flight or finished within the retention)
	// is not queued again: Enqueue returns the same ID and nil.
	Enqueue(ctx context.Context, m carrier.Message) (id string, err error)
	// Status reports where the message with id is, or ErrNotFound.
	Status(ctx context.Context, id string) (Status, error)
	// MarkDelivered applies a carrier's delivery report for the message the
	// carrier knows as providerID (a Twilio MessageSid). State is the
	// carrier's word: "delivered" and "read" mark it delivered, "failed"
	// and "undelivered" failed; other states ("queued", "sent"…) change
	// nothing. ErrNotFound when no message has that provider id.
	MarkDelivered(ctx context.Context, providerID, state string) error
	// Depth is how many accepted messages have no final outcome yet:
	// waiting, waiting for a retry, or in flight.
	Depth(ctx context.Context) (int64, error)
	// Run sends until ctx is done or Close has drained the queue. It
	// returns nil when stopped (and at once after Close); an error only
	// when it is already running.
	Run(ctx context.Context) error
	// Close stops accepting messages and lets Run finish what it holds
	// within ctx: the memory queue sends everything queued (retries
	// included); the Redis queue finishes the sends in flight and leaves
	// the rest in Redis for the next process. When ctx ends first, the
	// sends in flight are cancelled and Close returns ctx's error.
	Close(ctx context.Context) error
}

// States a message goes through: queued → sending → sent → delivered, back
// to queued while a retry waits, and failed when the sender refuses it or
// its deadline comes (or MaxAttempts run out). Sent means the carrier
// accepted it; delivered means the carrier said the handset got it.
const (
	StateQueued    = "queued"
	StateSending   = "sending"
	StateSent      = "sent"
	StateDelivered = "delivered"
	StateFailed    = "failed"
)

// Status is what is known about one message. It holds neither the phone
// number nor the text.
type Status struct {
	ID       string
	State    string
	Attempts int // sends tried so far, the one in flight included
	// LastError is the last failure in a form safe to show and log: the
	// number, the text and long digit runs are taken out.
	LastError  string
	Updated    time.Time
	Next       time.Time // when the next attempt is due, while a retry waits
	Deadline   time.Time // no attempt starts after it
	ProviderID string    // the carrier's id, when its Sender is an IDSender
	Carrier    string    // the carrier it goes (or went) through, after any failover
	Channel    string
}

// Final reports whether the status will not change any more except through
// a delivery report.
func (s Status) Final() bool {
	return s.State == StateSent || s.State == StateDelivered || s.State == StateFailed
}

var (
	// ErrNotFound: no message with that ID or provider id (never queued,
	// or older than the retention).
	ErrNotFound = errors.New("outbound: message not found")
	// ErrClosed: the queue was closed and accepts no more messages.
	ErrClosed = errors.New("outbound: queue closed")
	// ErrUnknownCarrier: no Sender is registered under the message's carrier.
	ErrUnknownCarrier = errors.New("outbound: no sender for carrier")
	// ErrInvalid: the message lacks an ID, a recipient or any text.
	ErrInvalid = errors.New("outbound: invalid message")
)

// IDSender is a Sender whose provider names each message it accepts (a
// Twilio MessageSid); the queue records the id so that the provider's
// delivery callbacks can be matched with MarkDelivered.
type IDSender interface {
	SendID(ctx context.Context, m carrier.Message) (providerID string, err error)
}

// Limiter paces one carrier in segments. *rate.Limiter is one; tests
// inject their own to count what each message costs.
type Limiter interface {
	WaitN(ctx context.Context, n int) error
	Burst() int
}

var _ Limiter = (*rate.Limiter)(nil)

// Options configures NewMemory and NewRedis. Zero values select defaults.
type Options struct {
	// Senders by carrier name, which is the sender's Name(); a message goes
	// through Senders[m.Carrier].
	Senders map[string]carrier.Sender
	// Rates caps each carrier in SMS segments per second (sms.Segments of
	// the text, at least 1 per message); a carrier without a rate is not
	// paced. Workers wait for their turn; nothing is dropped.
	Rates map[string]float64
	// Burst is how many segments a carrier may take at once after being
	// idle (default 3: a few one-segment messages).
	Burst int
	// Limiters replace Rates for the carriers they name.
	Limiters map[string]Limiter
	// Workers is how many sends run at once per carrier (default 4). Each
	// carrier has its own, so a slow or throttled carrier never holds up
	// another.
	Workers int
	// ValidFor is how long after Enqueue a message without a Deadline of
	// its own may still be sent (default DefaultValidFor). Retryable
	// failures are retried until then: a provider's bad afternoon must not
	// cost a citizen their notice. A one-time code gives itself a Deadline
	// of minutes: late, it is useless.
	ValidFor time.Duration
	// MaxAttempts, when set, also bounds the sends tried per message;
	// by default only the deadline does.
	MaxAttempts int
	// Backoff is the wait before the retry that follows failed attempt
	// number attempt (1, 2, …). Default: Backoff. A carrier's Retry-After
	// wins when it is longer.
	Backoff func(attempt int) time.Duration
	// Failover names, per carrier, the carrier that takes over a message
	// the first one keeps failing: after FailoverAfter retryable failures
	// in a row on one carrier, the next attempt goes through its Failover
	// at once ("twilio": "africastalking-sms", and back the other way for
	// a cycle). Both must carry the same kind of message (SMS to SMS).
	Failover map[string]string
	// FailoverAfter is how many retryable failures in a row on one
	// carrier move a message to its Failover (default 3).
	FailoverAfter int
	// SendTimeout bounds one call to a Sender (default 30s). A send that
	// times out is retried.
	SendTimeout time.Duration
	// Retain is how long a finished message's status (and with it the
	// memory of its ID) is kept (default 7 days).
	Retain time.Duration
	// Now is the clock for statuses and due times (default time.Now).
	Now func() time.Time
	// Sleep waits for d or until ctx is done (default: a timer). Tests
	// inject one that follows a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
	// Finished, when set, hears each message that reaches delivered or
	// failed (a carrier's delivery report, or the queue giving up): the
	// notifications API tells institutions from here. It hears it at
	// least once: the final status and a note that Finished is owed are
	// recorded in one write, and the note goes only once Finished has
	// returned nil. A Finished that fails hears the message again after
	// FinishedEvery; one that a dying process never got to (or never
	// finished) is heard by another instance once the note is older than
	// the Redis queue's Visibility. So Finished must be idempotent (push
	// an event whose id depends on the message and its state alone). It
	// runs on the delivery report's request or a send worker, so it must
	// be quick (a store write, not a call to the institution).
	Finished func(ctx context.Context, st Status) error
	// FinishedEvery is how often the notes of Finished not heard yet are
	// looked for (default 30s).
	FinishedEvery time.Duration
}

// Defaults.
const (
	DefaultValidFor      = 24 * time.Hour
	DefaultFailoverAfter = 3
	DefaultWorkers       = 4
	DefaultBurst         = 3
	DefaultSendTimeout   = 30 * time.Second
	DefaultRetain        = 7 * 24 * time.Hour
	DefaultFinishedEvery = 30 * time.Second
	// legacyMaxAttempts bounds the retries of a message queued without a
	// deadline, by a version that had none.
	legacyMaxAttempts = 6
)

// The default Backoff's curve: 1s, 2s, 4s … up to 5 minutes, each wait
// drawn within ±50% of it.
const (
	backoffInitial = time.Second
	backoffMax     = 5 * time.Minute
	backoffJitter  = 0.5
)

// Backoff is the default Backoff: exponential from 1s, doubling up to 5
// minutes, with a random ±50% around each interval so that the retries of
// a burst that failed together spread out. It is cenkalti/backoff's
// ExponentialBackOff, advanced to the attempt.
func Backoff(attempt int) time.Duration {
	b := exponential(attempt)
	b.RandomizationFactor = backoffJitter
	return b.NextBackOff()
}

// BackoffInterval is the interval Backoff draws around after attempt:
// Backoff(attempt) is within ±50% of it. Public so that tests and
// operators' tools can state the schedule without its jitter.
func BackoffInterval(attempt int) time.Duration {
	return exponential(attempt).NextBackOff()
}

// exponential is the default curve, without jitter, positioned so that
// its next backoff is the one after attempt.
func exponential(attempt int) *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{InitialInterval: backoffInitial, Multiplier: 2, MaxInterval: backoffMax}
	// Past 20 doublings the interval is long capped.
	for range min(max(attempt, 1), 20) - 1 {
		b.NextBackOff()
	}
	return b
}

func (o Options) withDefaults() (Options, error) {
	if len(o.Senders) == 0 {
		return o, errors.New("outbound: no senders")
	}
	for name, s := range o.Senders {
		if s == nil {
			return o, fmt.Errorf("outbound: sender %q is nil", name)
		}
		if name == "" || strings.ContainsAny(name, " {}:\t\n") {
			return o, fmt.Errorf("outbound: carrier name %q: want a plain word", name)
		}
		if s.Name() != name {
			// Messages name their carrier, and senders check it.
			return o, fmt.Errorf("outbound: sender registered as %q calls itself %q", name, s.Name())
		}
	}
	for name, r := range o.Rates {
		if r < 0 {
			return o, fmt.Errorf("outbound: rate of %q is negative", name)
		}
		if _, ok := o.Senders[name]; !ok {
			return o, fmt.Errorf("outbound: rate for carrier %q, which has no sender", name)
		}
	}
	for name := range o.Limiters {
		if _, ok := o.Senders[name]; !ok {
			return o, fmt.Errorf("outbound: limiter for carrier %q, which has no sender", name)
		}
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	for from, to := range o.Failover {
		switch {
		case o.Senders[from] == nil:
			return o, fmt.Errorf("outbound: failover from carrier %q, which has no sender", from)
		case o.Senders[to] == nil:
			return o, fmt.Errorf("outbound: failover of %q to carrier %q, which has no sender", from, to)
		case from == to:
			return o, fmt.Errorf("outbound: carrier %q fails over to itself", from)
		}
	}
	if o.FailoverAfter <= 0 {
		o.FailoverAfter = DefaultFailoverAfter
	}
	if o.ValidFor <= 0 {
		o.ValidFor = DefaultValidFor
	}
	if o.MaxAttempts < 0 {
		o.MaxAttempts = 0
	}
	if o.Backoff == nil {
		o.Backoff = Backoff
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.Retain <= 0 {
		o.Retain = DefaultRetain
	}
	if o.FinishedEvery <= 0 {
		o.FinishedEvery = DefaultFinishedEvery
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// check validates a message at Enqueue.
func (o *Options) check(m carrier.Message) error {
	switch {
	case m.ID == "" || len(m.ID) > 200:
		return fmt.Errorf("%w: the ID must have 1 to 200 bytes", ErrInvalid)
	case m.To == "":
		return fmt.Errorf("%w: no recipient", ErrInvalid)
	case m.Text == "" && len(m.Buttons) == 0:
		return fmt.Errorf("%w: no text", ErrInvalid)
	}
	if _, ok := o.Senders[m.Carrier]; !ok {
		return fmt.Errorf("%w %q", ErrUnknownCarrier, m.Carrier)
	}
	return nil
}

// reportedState maps a carrier's delivery report to a state; "" means the
// report changes nothing.
func reportedState(state string) string {
	switch strings.ToLower(strings.TrimSpace(state)) {
	case "delivered", "read":
		return StateDelivered
	case "failed", "undelivered", "rejected", "expired":
		return StateFailed
	}
	return ""
}
