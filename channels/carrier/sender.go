package carrier

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Message is one message the gateway sends on its own initiative: a reply
// that does not travel back in the carrier's HTTP response, or a
// notification an institution asked for.
type Message struct {
	// ID is the idempotency key: sending the same ID twice must not reach
	// the citizen twice.
	ID      string
	Channel string // "sms", "chat"
	Carrier string // which sender carries it
	To      string // E.164 for SMS and WhatsApp; the chat id for chat platforms
	Text    string
	Buttons [][]Button
	// Deadline is when the message stops being worth sending: no attempt
	// starts after it, and retries stop before it. Zero: the queue's
	// default validity from when it is accepted. A one-time code's is
	// minutes away; a "your application is ready" notice's, hours.
	Deadline time.Time
}

// Sender delivers messages through one carrier's API. Send classifies its
// failures: a *RetryableError (timeouts, 5xx, 429) may succeed later; any
// other error will not.
type Sender interface {
	Name() string
	Send(ctx context.Context, m Message) error
}

// RetryableError wraps a failure worth retrying, with the wait the carrier
// asked for (Retry-After) when it said one.
type RetryableError struct {
	Err   error
	After time.Duration
}

func (e *RetryableError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
	}
	return e.Err.Error()
}

func (e *RetryableError) Unwrap() error { return e.Err }

// Retryable reports whether err is worth retrying, and after how long the
// carrier asked to wait (0 when it did not say).
func Retryable(err error) (bool, time.Duration) {
	var re *RetryableError
	if errors.As(err, &re) {
		return true, re.After
	}
	return false, 0
}
