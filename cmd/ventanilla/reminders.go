package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/indicators"
	"github.com/ventanilla-gob/ventanilla/internal/quiet"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// startReminders keeps messages to send later beside the queue they go
// to: in the queue's Redis, else the sessions' Redis, else in memory —
// the one place a restart of the gateway does not empty when there is
// one. A scheduler on every instance hands due ones to the queue under
// their own ids, which the queue takes once.
func (a *app) startReminders(p *outboundPath, store sessions.Store, runCtx context.Context) {
	switch r, ok := sessions.Unwrap(store).(sessions.RedisBacked); {
	case p.client != nil:
		p.later = reminders.NewRedis(p.client)
	case ok:
		p.later = reminders.NewRedis(r.Client())
	default:
		m := reminders.NewMemory(0)
		p.later = m
		a.metrics.Gauge("reminders_kept", "Messages kept in memory to be sent later.", func() float64 { return float64(m.Len()) })
	}
	s := &reminders.Scheduler{Store: p.later, Sender: asking{next: reminders.Enqueuer{Queue: p.queue, Now: a.cfg.now}, questions: a.gateway.Questions},
		Now: a.cfg.now, Log: a.log, Sent: a.reminderSent}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		_ = s.Run(runCtx)
	}()
}

// reminderSent counts a flow's reminder in the indicators.
func (a *app) reminderSent(r reminders.Reminder) {
	if r.Flow == "" || a.counter == nil {
		return
	}
	a.counter.Reminder(indicators.Dims{Flow: r.Flow, Institution: a.institutionOf(r.Flow, r.Institution), Channel: r.Channel, Carrier: r.Carrier, Locale: r.Locale}, indicators.ReminderSent)
}

var _ notify.AskingLater = reminders.Later{}

// notifyAsker keeps the question of a notification sent at once.
type notifyAsker struct{ questions *gateway.Questions }

func (n notifyAsker) Ask(ctx context.Context, q notify.Question) error {
	return n.questions.Ask(ctx, q.To, gateway.Question{ID: q.ID, Kind: "notification", Key: q.ID, Flow: q.Flow, Vars: q.Vars,
		Institution: q.Institution, Locale: q.Locale, Channel: q.Channel, Carrier: q.Carrier}, q.Until)
}

// asking keeps, before a reminder that asks for an answer is handed
// over, the question its answer answers (gateway.Questions), until the
// event it reminds of: the answer may come before the handover is done,
// never before the question is kept. A question not kept leaves the
// reminder for a later handover.
type asking struct {
	next      reminders.Sender
	questions *gateway.Questions
}

func (s asking) Send(ctx context.Context, r reminders.Reminder) error {
	if r.Reply != "" && s.questions != nil {
		// What no flow scheduled is a notification sent later (send_at).
		kind := "reminder"
		if r.Flow == "" {
			kind = "notification"
		}
		q := gateway.Question{ID: r.ID, Kind: kind, Key: r.Key, Flow: r.Reply, Vars: r.Vars,
			Institution: r.Institution, Origin: r.Flow, Locale: r.Locale, Channel: r.Channel, Carrier: r.Carrier}
		if err := s.questions.Ask(ctx, r.Phone, q, r.Event); err != nil {
			return err
		}
	}
	return s.next.Send(ctx, r)
}

// reminderAnswers hears the answers to reminders: what they came to counts in
// the indicators beside the reminders sent, and a turno cancelled by its
// citizen's answer takes its remaining reminders with it, on the hop,
// before the citizen is told it is cancelled: a gateway that dies once
// it has answered has cancelled them.
type reminderAnswers struct{ a *app }

var _ gateway.Answers = reminderAnswers{}

// cancelTimeout bounds the cancellation of a cancelled turno's
// reminders. Like a reply's event (pushTimeout), it outlasts the hop's
// budget: the turno is cancelled already, and a hop that overran must
// not leave its reminders to be sent.
const cancelTimeout = 5 * time.Second

func (reminderAnswers) Answered(context.Context, gateway.Question, gateway.Answer) {}

func (h reminderAnswers) Settled(ctx context.Context, q gateway.Question, outcome string) {
	if q.Kind != "reminder" {
		return
	}
	if h.a.counter != nil && q.Origin != "" {
		h.a.counter.Reminder(indicators.Dims{Flow: q.Origin, Institution: h.a.institutionOf(q.Origin, q.Institution), Channel: q.Channel, Carrier: q.Carrier, Locale: q.Locale}, outcome)
	}
	p := h.a.outbound
	if outcome != flows.ReminderCancelled || q.Key == "" || p == nil || p.later == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelTimeout)
	defer cancel()
	if _, err := p.later.Cancel(ctx, q.Key); err != nil {
		h.a.log.Error("a turno cancelled by its citizen's answer kept its other reminders", "reminder", q.ID, "err", err)
	}
}

// defaultQuietHours is --quiet-hours unless set: no reminder at night.
const defaultQuietHours = "21:00-07:00"

// remindSteps makes the engine keep remind steps' reminders beside the
// others, in the offices' zone and out of the quiet hours.
func (a *app) remindSteps(p *outboundPath, senders map[string]carrier.Sender) error {
	zone, err := time.LoadLocation(a.cfg.Zone)
	if err != nil {
		return fmt.Errorf("--zone %q: %w", a.cfg.Zone, err)
	}
	hours := a.cfg.QuietHours
	if hours == "" {
		hours = defaultQuietHours
	}
	q, err := quiet.Parse(hours, zone)
	if err != nil {
		return fmt.Errorf("--quiet-hours: %w", err)
	}
	e := a.gateway.Engine
	e.Zone, e.Quiet = zone, &q
	e.Reminders = gateway.StepReminders{
		Bookings: a.bookings(p),
		SMS:      p.sms,
		Sends:    func(c string) bool { return senders[c] != nil },
		Layout:   a.gateway.SMS,
		Owner: func(flow string) string {
			if set := a.set.Load(); set != nil {
				return set.Owner(flow)
			}
			return ""
		},
	}
	return nil
}

// bookings reaches the reminders of bookings by key, for remind steps
// and the notifications API, on the engine's clock.
func (a *app) bookings(p *outboundPath) reminders.Bookings {
	return reminders.Bookings{Store: p.later, Now: a.now}
}

// now is the clock of conversations and reminders.
func (a *app) now() time.Time {
	if a.cfg.now != nil {
		return a.cfg.now()
	}
	return time.Now()
}

// remindersAPI gives institutions the reminders of their bookings
// through the notifications API.
type remindersAPI struct{ b reminders.Bookings }

var _ notify.Reminders = remindersAPI{}

func (r remindersAPI) Reminders(ctx context.Context, inst, key string) ([]notify.Reminder, error) {
	rs, err := r.b.Get(ctx, inst, key)
	return apiReminders(rs), err
}

func (r remindersAPI) CancelReminders(ctx context.Context, inst, key string) (int, error) {
	return r.b.Cancel(ctx, inst, key)
}

func (r remindersAPI) MoveReminders(ctx context.Context, inst, key string, at time.Time) ([]notify.Reminder, error) {
	rs, err := r.b.Move(ctx, inst, key, at)
	return apiReminders(rs), err
}

// apiReminders is what the API shows of reminders: when, not to whom.
func apiReminders(rs []reminders.Reminder) []notify.Reminder {
	out := make([]notify.Reminder, 0, len(rs))
	for _, r := range rs {
		out = append(out, notify.Reminder{Before: reminders.Span(r.Before), Due: r.Due.UTC(), Event: r.Event.UTC(), Channel: r.Channel})
	}
	return out
}
