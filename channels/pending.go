package channels

import (
	"context"
	"time"

	"ventanilla/flows"
	"ventanilla/sessions"
)

// PendingKey is the store key of a result kept for a citizen's next contact.
func PendingKey(phone string) string { return "pending:" + Tag(phone) }

// Pending is the engine's Notifier where no SMS carrier is configured: it
// keeps the result of a slow back-end call, and the gateway shows it at
// the top of the citizen's next conversation, on any channel.
type Pending struct {
	Store sessions.Store
	TTL   time.Duration // how long a result waits (default 7 days)
}

var _ flows.Notifier = Pending{}

// Notify keeps text for phone; a newer result replaces an older one.
func (p Pending) Notify(ctx context.Context, phone, _ string, text string) error {
	ttl := p.TTL
	if ttl <= 0 {
		ttl = 7 * 24 * time.Hour
	}
	return p.Store.Set(ctx, PendingKey(phone), []byte(text), ttl)
}
