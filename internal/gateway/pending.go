package gateway

import (
	"context"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// Pending is the engine's Notifier where no SMS carrier is configured: it
// keeps the result of a slow back-end call, and the gateway shows it at
// the top of the citizen's next conversation, on any channel.
type Pending struct {
	Store sessions.Store
	TTL   time.Duration // how long a result waits (default 7 days)
}

var (
	_ flows.Notifier = Pending{}
	_ flows.Promiser = Pending{}
)

// Promise: the citizen is told the result waits for their next contact,
// never that it will come by SMS.
func (Pending) Promise() string { return i18n.AsyncNextContact }

// Notify keeps text for phone; a newer result replaces an older one.
func (p Pending) Notify(ctx context.Context, phone, _ string, text string) error {
	ttl := p.TTL
	if ttl <= 0 {
		ttl = 7 * 24 * time.Hour
	}
	return p.Store.Set(ctx, keys.Pending(phone), []byte(text), ttl)
}

// LateSMS sends the result of a slow back-end call by SMS, laid out the
// way every SMS reply is: transliterated when the gateway's SMS options
// say so, and within their segment cap. A late result is a final text
// (the lint sees to that) that nobody can page through, so a text longer
// than the cap is cut at a word and ends with an ellipsis.
type LateSMS struct {
	Send flows.Notifier // sends one SMS: the outbound queue
	SMS  sms.Options
}

var _ flows.Notifier = LateSMS{}

// Notify lays text out for SMS and sends it.
func (l LateSMS) Notify(ctx context.Context, phone, locale, text string) error {
	return l.Send.Notify(ctx, phone, locale, LateText(text, l.SMS))
}

// StepSMS sends the texts of sms steps laid out as LateSMS does, each
// under its step's key.
type StepSMS struct {
	Send flows.SMSSender // queues one SMS once per key: the outbound queue
	SMS  sms.Options
}

var _ flows.SMSSender = StepSMS{}

// SendSMS lays text out for SMS and queues it under key.
func (l StepSMS) SendSMS(ctx context.Context, key, phone, locale, text string) error {
	return l.Send.SendSMS(ctx, key, phone, locale, LateText(text, l.SMS))
}

// LateText is text as one SMS under opts.
func LateText(text string, opts sms.Options) string {
	if opts.Transliterate {
		if t := sms.Transliterate(text); sms.EncodingOf(t) == sms.GSM7 {
			text = t
		}
	}
	n := opts.MaxSegments
	if n <= 0 {
		n = sms.DefaultMaxSegments
	}
	return sms.Fit(text, n)
}
