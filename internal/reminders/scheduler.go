package reminders

import (
	"context"
	"log/slog"
	"time"
)

// Sender hands a reminder to whatever sends it. It must be idempotent
// on r.ID: a reminder whose Done was lost (the process died between the
// two) is handed over again.
type Sender interface {
	Send(ctx context.Context, r Reminder) error
}

// Scheduler hands due reminders to a Sender.
type Scheduler struct {
	Store  Store
	Sender Sender
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Every is how often due reminders are looked for (default 1 s).
	Every time.Duration
	// Visibility is how long a claimed reminder waits before another
	// claim may take it (default 30 s): longer than a handover takes.
	Visibility time.Duration
	// Batch is the most reminders claimed at once (default 100).
	Batch int
	Log   *slog.Logger
	// Sent, when set, hears each reminder handed over.
	Sent func(Reminder)
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Run hands over due reminders until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	every := s.Every
	if every <= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		s.Tick(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Tick hands over the reminders due now, and returns how many.
func (s *Scheduler) Tick(ctx context.Context) int {
	vis := s.Visibility
	if vis <= 0 {
		vis = 30 * time.Second
	}
	batch := s.Batch
	if batch <= 0 {
		batch = 100
	}
	n := 0
	for {
		rs, err := s.Store.Claim(ctx, s.now(), vis, batch)
		if err != nil {
			s.log().Warn("due reminders not read; trying again", "err", err)
			return n
		}
		for _, r := range rs {
			if err := s.Sender.Send(ctx, r); err != nil {
				// Claimed: tried again when the visibility runs out.
				s.log().Warn("reminder not handed over; trying again later", "reminder", r.ID, "err", err)
				continue
			}
			if err := s.Store.Done(ctx, r.ID); err != nil {
				// Handed over again later; the sender knows the id.
				s.log().Warn("reminder handed over but not forgotten", "reminder", r.ID, "err", err)
			}
			if s.Sent != nil {
				s.Sent(r)
			}
			n++
		}
		if len(rs) < batch || ctx.Err() != nil {
			return n
		}
	}
}
