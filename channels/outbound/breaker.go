package outbound

import (
	"context"
	"errors"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// ErrUnavailable: the queue's store was failing moments ago (its breaker
// is open), so the call was not tried.
var ErrUnavailable = errors.New("outbound: queue store unavailable")

// WithBreaker puts the calls made on behalf of hops and of the
// notifications API (Enqueue, Status, MarkDelivered, Depth) behind b, so
// they fail at once with ErrUnavailable while the store is down instead of
// waiting out its timeouts. Run and Close go straight to q: the senders
// have their own backoff. One breaker may guard the sessions and the queue
// when they share a Redis.
func WithBreaker(q Queue, b *sessions.Breaker) Queue {
	return guarded{Queue: q, b: b}
}

type guarded struct {
	Queue
	b *sessions.Breaker
}

// do runs call through the breaker; the queue's answers (unknown id,
// closed, invalid message) are successes as far as the store's health goes.
func (g guarded) do(ctx context.Context, call func(context.Context) error) error {
	var out error
	err := g.b.Do(ctx, func(ctx context.Context) error {
		out = call(ctx)
		switch {
		case errors.Is(out, ErrNotFound), errors.Is(out, ErrClosed), errors.Is(out, ErrUnknownCarrier), errors.Is(out, ErrInvalid):
			return nil
		}
		return out
	})
	if errors.Is(err, sessions.ErrUnavailable) {
		return ErrUnavailable
	}
	return out
}

func (g guarded) Enqueue(ctx context.Context, m carrier.Message) (id string, err error) {
	err = g.do(ctx, func(ctx context.Context) error {
		id, err = g.Queue.Enqueue(ctx, m)
		return err
	})
	return id, err
}

func (g guarded) Status(ctx context.Context, id string) (s Status, err error) {
	err = g.do(ctx, func(ctx context.Context) error {
		s, err = g.Queue.Status(ctx, id)
		return err
	})
	return s, err
}

func (g guarded) MarkDelivered(ctx context.Context, providerID, state string) error {
	return g.do(ctx, func(ctx context.Context) error { return g.Queue.MarkDelivered(ctx, providerID, state) })
}

func (g guarded) Depth(ctx context.Context) (n int64, err error) {
	err = g.do(ctx, func(ctx context.Context) error {
		n, err = g.Queue.Depth(ctx)
		return err
	})
	return n, err
}
