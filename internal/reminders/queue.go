package reminders

import (
	"context"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
)

// Enqueuer hands due reminders to the outbound queue, under their own
// id: the queue does not take an id twice, which makes the handover
// exactly once.
type Enqueuer struct {
	Queue outbound.Queue
	Now   func() time.Time
}

var _ Sender = Enqueuer{}

// Send implements Sender.
func (e Enqueuer) Send(ctx context.Context, r Reminder) error {
	var deadline time.Time
	if r.ValidFor > 0 {
		now := time.Now
		if e.Now != nil {
			now = e.Now
		}
		deadline = now().Add(r.ValidFor)
	}
	_, err := e.Queue.Enqueue(ctx, carrier.Message{ID: r.ID, Channel: r.Channel, Carrier: r.Carrier, To: r.Phone, Text: r.Text, Deadline: deadline})
	return err
}

// Later keeps a message to send at a time: the notifications API's
// send_at. The message's id is the reminder's id and key.
type Later struct{ Store Store }

// Schedule keeps m until at.
func (l Later) Schedule(ctx context.Context, at time.Time, m carrier.Message, validFor time.Duration) error {
	return l.Store.Schedule(ctx, Reminder{ID: m.ID, Key: m.ID, Event: at, Due: at,
		Phone: m.To, Channel: m.Channel, Carrier: m.Carrier, Text: m.Text, ValidFor: validFor})
}

// ScheduleAsking keeps m until at, with the question it asks: its
// reply flow and vars, its institution and language. The reminder's
// event is when an answer stops counting.
func (l Later) ScheduleAsking(ctx context.Context, at time.Time, m carrier.Message, validFor time.Duration, q notify.Question) error {
	return l.Store.Schedule(ctx, Reminder{ID: m.ID, Key: m.ID, Event: q.Until, Before: q.Until.Sub(at), Due: at,
		Phone: m.To, Channel: m.Channel, Carrier: m.Carrier, Locale: q.Locale, Text: m.Text, ValidFor: validFor,
		Reply: q.Flow, Vars: q.Vars, Institution: q.Institution})
}

// Cancel forgets the message with id, if it still waits.
func (l Later) Cancel(ctx context.Context, id string) (bool, error) {
	n, err := l.Store.Cancel(ctx, id)
	return n > 0, err
}
