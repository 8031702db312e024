package outbound

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/sms"
)

// core is what both queues share: pacing per carrier, one attempt at a
// send, and the classification of its outcome. The queues add where
// messages wait and how their status is recorded.
type core struct {
	opts     Options
	limiters map[string]Limiter

	mu     sync.Mutex
	paused map[string]time.Time // carrier → until when it asked us to wait
}

func newCore(opts Options) (*core, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &core{opts: opts, limiters: map[string]Limiter{}, paused: map[string]time.Time{}}
	for carrier := range opts.Senders {
		switch {
		case opts.Limiters[carrier] != nil:
			c.limiters[carrier] = opts.Limiters[carrier]
		case opts.Rates[carrier] > 0:
			c.limiters[carrier] = rate.NewLimiter(rate.Limit(opts.Rates[carrier]), opts.Burst)
		}
	}
	return c, nil
}

type outcomeKind int

const (
	outcomeSent       outcomeKind = iota
	outcomeRetry                  // failed, worth another attempt after delay
	outcomeFailed                 // failed for good
	outcomeAborted                // stopped during the send or while marking it: the outcome is unknown
	outcomeNotStarted             // stopped while waiting for the carrier's rate: nothing was sent
	outcomeLost                   // another worker owns the message now
	outcomeFinal                  // already finished by someone else
)

type outcome struct {
	kind       outcomeKind
	attempts   int
	providerID string
	delay      time.Duration
	carrier    string // the carrier of the retry: m's own, or its failover
	err        string
}

var (
	errLost  = errors.New("outbound: message claimed by another worker")
	errFinal = errors.New("outbound: message already finished")
)

// attempt paces, marks and sends m once. It waits for the carrier under
// wait, and sends under ctx. mark records the attempt as "sending" before
// the provider is called and returns the attempt's number; it is the last
// moment a crash cannot cause a duplicate.
func (c *core) attempt(wait, ctx context.Context, m carrier.Message, mark func(context.Context) (int, error)) outcome {
	sender := c.opts.Senders[m.Carrier]
	if err := c.pace(wait, m); err != nil || ctx.Err() != nil {
		return outcome{kind: outcomeNotStarted}
	}
	if !m.Deadline.IsZero() && c.opts.Now().After(m.Deadline) {
		// Late is useless for a one-time code, and unwelcome for most
		// notices: the sender said how long it was worth sending.
		return outcome{kind: outcomeFailed, err: "not sent by its deadline " + m.Deadline.UTC().Format(time.RFC3339)}
	}
	n, err := mark(ctx)
	switch {
	case errors.Is(err, errLost):
		return outcome{kind: outcomeLost}
	case errors.Is(err, errFinal):
		return outcome{kind: outcomeFinal}
	case err != nil:
		c.opts.Log.Warn("outbound: recording an attempt failed; the message waits", "message_id", m.ID, "carrier", m.Carrier, "err", err)
		return outcome{kind: outcomeAborted}
	}
	sctx, cancel := context.WithTimeout(ctx, c.opts.SendTimeout)
	pid, err := c.send(sctx, sender, m)
	timedOut := sctx.Err() != nil
	cancel()
	if err == nil {
		return outcome{kind: outcomeSent, attempts: n, providerID: pid}
	}
	if ctx.Err() != nil {
		// Shutting down mid-send: whether the carrier took it is unknown,
		// so nothing is recorded and recovery decides.
		return outcome{kind: outcomeAborted, attempts: n}
	}
	retry, after := carrier.Retryable(err)
	if timedOut && errors.Is(err, context.DeadlineExceeded) {
		retry = true // our own timeout, whatever the sender made of it
	}
	msg := Scrub(err.Error(), m)
	if !retry {
		return outcome{kind: outcomeFailed, attempts: n, err: msg}
	}
	if c.opts.MaxAttempts > 0 && n >= c.opts.MaxAttempts || m.Deadline.IsZero() && n >= legacyMaxAttempts {
		return outcome{kind: outcomeFailed, attempts: n, err: fmt.Sprintf("gave up after %d attempts: %s", n, msg)}
	}
	if after > 0 {
		// Retry-After speaks for the account, not one message.
		c.pause(m.Carrier, c.opts.Now().Add(after))
	}
	next, delay := m.Carrier, max(c.opts.Backoff(n), after)
	if f := c.opts.Failover[m.Carrier]; f != "" && n%c.opts.FailoverAfter == 0 {
		// This carrier failed the message FailoverAfter times in a row;
		// the other has not failed it yet, so it gets it at once.
		next, delay = f, 0
	}
	if !m.Deadline.IsZero() && c.opts.Now().Add(delay).After(m.Deadline) {
		return outcome{kind: outcomeFailed, attempts: n, err: fmt.Sprintf("gave up after %d attempts, the next would come after its deadline: %s", n, msg)}
	}
	if next != m.Carrier {
		c.opts.Log.Warn("outbound: carrier keeps failing; the message goes through another", "message_id", m.ID, "carrier", m.Carrier, "to", next, "attempt", n, "err", msg)
	} else {
		c.opts.Log.Info("outbound: send failed; retrying", "message_id", m.ID, "carrier", m.Carrier, "attempt", n, "in", delay, "err", msg)
	}
	return outcome{kind: outcomeRetry, attempts: n, delay: delay, carrier: next, err: msg}
}

// send calls the sender; a sender that panics fails the message instead
// of the process, which would only panic again on the message's recovery.
func (c *core) send(ctx context.Context, sender carrier.Sender, m carrier.Message) (pid string, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.opts.Log.Error("outbound: sender panicked", "message_id", m.ID, "carrier", m.Carrier, "panic", Scrub(fmt.Sprint(r), m), "stack", string(debug.Stack()))
			pid, err = "", errors.New("sender panicked")
		}
	}()
	if s, ok := sender.(IDSender); ok {
		return s.SendID(ctx, m)
	}
	return "", sender.Send(ctx, m)
}

// pace waits while the carrier asked us to, then for the message's
// segments in the carrier's bucket. A message costing more than the bucket
// holds takes it in burst-sized bites, which keeps the long-run rate.
func (c *core) pace(ctx context.Context, m carrier.Message) error {
	for {
		c.mu.Lock()
		until := c.paused[m.Carrier]
		c.mu.Unlock()
		wait := until.Sub(c.opts.Now())
		if wait <= 0 {
			break
		}
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	lim := c.limiters[m.Carrier]
	if lim == nil {
		return ctx.Err()
	}
	n := Cost(m)
	for n > 0 {
		bite := min(n, max(1, lim.Burst()))
		if err := lim.WaitN(ctx, bite); err != nil {
			return err
		}
		n -= bite
	}
	return nil
}

func (c *core) pause(carrier string, until time.Time) {
	c.mu.Lock()
	if until.After(c.paused[carrier]) {
		c.paused[carrier] = until
	}
	c.mu.Unlock()
}

// Cost is what a message takes from its carrier's rate: its SMS segments,
// at least one.
func Cost(m carrier.Message) int {
	n, _ := sms.Segments(m.Text)
	return max(1, n)
}

// Scrub makes a provider's error safe to keep and show: the recipient, the
// text and any run of seven or more digits (a phone number, a cédula) are
// replaced, and it is cut to 200 bytes.
func Scrub(s string, m carrier.Message) string {
	if m.Text != "" {
		s = strings.ReplaceAll(s, m.Text, "[text]")
	}
	if m.To != "" {
		s = strings.ReplaceAll(s, m.To, "[to]")
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		switch {
		case j-i >= 7:
			b.WriteString("[digits]")
			i = j
		case j > i:
			b.WriteString(s[i:j])
			i = j
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	s = b.String()
	const limit = 200
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
