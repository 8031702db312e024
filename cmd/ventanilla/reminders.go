package main

import (
	"context"

	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/internal/indicators"
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
	s := &reminders.Scheduler{Store: p.later, Sender: reminders.Enqueuer{Queue: p.queue}, Log: a.log, Sent: a.reminderSent}
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
	a.counter.Reminder(indicators.Dims{Flow: r.Flow, Institution: r.Institution, Channel: r.Channel, Carrier: r.Carrier, Locale: r.Locale}, indicators.ReminderSent)
}

var _ notify.Later = reminders.Later{}
