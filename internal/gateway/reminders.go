package gateway

import (
	"context"
	"errors"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
)

// StepReminders keeps the reminders of remind steps, each addressed to
// where the citizen can be reached: the chat they wrote from when its
// carrier sends, else by SMS — always by SMS for USSD users.
type StepReminders struct {
	Bookings reminders.Bookings
	// SMS is the carrier that sends SMS, "" when there is none.
	SMS string
	// Sends reports whether a carrier sends messages of its own (it has
	// a sender in the outbound queue); nil: none but SMS.
	Sends func(carrier string) bool
	// Layout lays SMS texts out as every SMS the gateway sends.
	Layout sms.Options
	// Owner returns the institution (package) of a flow, "" when no
	// package declares it: then the flow's own institution field names it.
	Owner func(flow string) string
}

var _ flows.Reminders = StepReminders{}

// ErrUnreachable: the citizen has no channel a reminder can go on.
var ErrUnreachable = errors.New("no channel to remind the citizen on: no SMS carrier, or no number")

func (s StepReminders) institution(b flows.Booking) string {
	if s.Owner != nil {
		if inst := s.Owner(b.Flow); inst != "" {
			return inst
		}
	}
	return b.Institution
}

// Remind implements flows.Reminders.
func (s StepReminders) Remind(ctx context.Context, b flows.Booking, rs []flows.Reminder) error {
	inst := s.institution(b)
	out := make([]reminders.Reminder, 0, len(rs))
	for _, r := range rs {
		channel, carrier, ok := s.route(r)
		if !ok {
			return ErrUnreachable
		}
		text := r.Text
		if channel == "sms" {
			text = LateText(text, s.Layout)
		}
		out = append(out, reminders.Reminder{Event: r.Event, Before: r.Before, Due: r.Due, Zone: r.Zone, Quiet: r.Quiet,
			Phone: r.Phone, Channel: channel, Carrier: carrier, Locale: r.Locale, Text: text,
			Reply: r.Reply, Vars: r.Vars, Flow: b.Flow, Institution: inst})
	}
	return s.Bookings.Set(ctx, inst, b.Key, out)
}

// CancelReminders implements flows.Reminders.
func (s StepReminders) CancelReminders(ctx context.Context, b flows.Booking) (int, error) {
	return s.Bookings.Cancel(ctx, s.institution(b), b.Key)
}

// route is the channel and carrier a reminder goes on.
func (s StepReminders) route(r flows.Reminder) (channel, carrier string, ok bool) {
	if r.Phone == "" {
		return "", "", false
	}
	if r.Channel != "ussd" && r.Carrier != "" && s.Sends != nil && s.Sends(r.Carrier) {
		kind := "sms"
		if r.Channel == "chat" {
			kind = "chat"
		}
		return kind, r.Carrier, true
	}
	if s.SMS == "" {
		return "", "", false
	}
	return "sms", s.SMS, true
}
