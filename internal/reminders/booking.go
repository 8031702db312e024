package reminders

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/quiet"
)

// BookingKey is the store key of the reminders of booking key of an
// institution: two institutions' booking codes never meet, and an
// institution reaches only its own reminders.
func BookingKey(institution, key string) string { return institution + ":" + key }

// ID is the id of the reminder before event of a booking: the same for
// the same reminder of the same event, so that scheduling it again
// replaces it, and another when the event moves, so that the outbound
// queue, which takes an id once, sends the moved one too.
func ID(bookingKey string, before time.Duration, event time.Time) string {
	return bookingKey + "/" + Span(before) + "@" + event.UTC().Format("20060102T1504Z")
}

// Span writes d as authors do: 24h, 2h, 90m, 1h30m.
func Span(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Bookings reads, cancels and moves the reminders of a booking by its
// key, within an institution: the notifications API's and the remind
// step's way to them.
type Bookings struct {
	Store Store
	Now   func() time.Time
}

func (b Bookings) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Get returns the reminders of a booking not sent yet.
func (b Bookings) Get(ctx context.Context, institution, key string) ([]Reminder, error) {
	return b.Store.Get(ctx, BookingKey(institution, key))
}

// Set replaces the reminders of a booking by rs (their Key and ID are
// set here): those kept before and not in rs are forgotten.
func (b Bookings) Set(ctx context.Context, institution, key string, rs []Reminder) error {
	bk := BookingKey(institution, key)
	want := map[string]bool{}
	for i := range rs {
		rs[i].Key = bk
		rs[i].ID = ID(bk, rs[i].Before, rs[i].Event)
		want[rs[i].ID] = true
	}
	old, err := b.Store.Get(ctx, bk)
	if err != nil {
		return err
	}
	for _, r := range old {
		if !want[r.ID] {
			if err := b.Store.Done(ctx, r.ID); err != nil {
				return err
			}
		}
	}
	if len(rs) == 0 {
		return nil
	}
	return b.Store.Schedule(ctx, rs...)
}

// Cancel forgets the reminders of a booking not sent yet, and says how
// many there were.
func (b Bookings) Cancel(ctx context.Context, institution, key string) (int, error) {
	return b.Store.Cancel(ctx, BookingKey(institution, key))
}

// Move sets the event of a booking's reminders to event: each keeps how
// long before it goes, and is due again out of its quiet hours; one
// whose time has passed is forgotten. It returns the reminders kept.
func (b Bookings) Move(ctx context.Context, institution, key string, event time.Time) ([]Reminder, error) {
	bk := BookingKey(institution, key)
	old, err := b.Store.Get(ctx, bk)
	if err != nil {
		return nil, err
	}
	now := b.now()
	var moved []Reminder
	for _, r := range old {
		zone, err := time.LoadLocation(r.Zone)
		if err != nil || r.Zone == "" {
			zone = event.Location()
		}
		q, err := quiet.Parse(r.Quiet, zone)
		if err != nil {
			return nil, fmt.Errorf("reminders: %s: %w", r.ID, err)
		}
		due, ok := q.Due(event.In(zone), r.Before, now)
		if !ok {
			continue
		}
		m := r
		m.Event, m.Due = event.In(zone), due
		moved = append(moved, m)
	}
	if err := b.Set(ctx, institution, key, moved); err != nil {
		return nil, err
	}
	return moved, nil
}
