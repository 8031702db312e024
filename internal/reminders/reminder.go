package reminders

import (
	"context"
	"errors"
	"time"
)

// Reminder is one message to send later.
type Reminder struct {
	// ID is unique among reminders: the booking's key and which reminder
	// of it ("T-8K2/24h"). Scheduling an ID again replaces it.
	ID string `json:"id"`
	// Key is the booking's key: Cancel and Move find the reminders by it.
	Key string `json:"key"`
	// Event is when the thing reminded of happens; Before is how long
	// before it the reminder is due (Move keeps Before).
	Event  time.Time     `json:"event"`
	Before time.Duration `json:"before"`
	// Due is when to send: Event - Before, out of the quiet hours.
	Due time.Time `json:"due"`
	// Zone and Quiet are the office's time zone and quiet hours
	// ("21:00-07:00", "none"), which a move applies again.
	Zone  string `json:"zone,omitempty"`
	Quiet string `json:"quiet,omitempty"`

	Phone   string `json:"phone"`
	Channel string `json:"channel"` // where to send: sms, whatsapp, chat
	Carrier string `json:"carrier,omitempty"`
	Locale  string `json:"locale"`
	Text    string `json:"text"`
	// ValidFor is how long after its handover the message is worth
	// sending (0: the queue's default).
	ValidFor time.Duration `json:"valid_for,omitempty"`
	// Reply is the flow the citizen's answer runs ("" when the reminder
	// asks nothing), with Vars.
	Reply string            `json:"reply,omitempty"`
	Vars  map[string]string `json:"vars,omitempty"`
	// Flow and Institution scheduled it, for the indicators.
	Flow        string `json:"flow,omitempty"`
	Institution string `json:"institution,omitempty"`
}

// Store keeps reminders until they are handed over.
type Store interface {
	// Schedule keeps rs (replacing those with the same ID).
	Schedule(ctx context.Context, rs ...Reminder) error
	// Claim returns up to limit reminders due at now, and keeps them from
	// other claims for visibility: a claimer that dies before Done leaves
	// them to be claimed again after it.
	Claim(ctx context.Context, now time.Time, visibility time.Duration, limit int) ([]Reminder, error)
	// Done forgets a reminder handed over.
	Done(ctx context.Context, id string) error
	// Cancel forgets the reminders of key not handed over yet, and says
	// how many there were.
	Cancel(ctx context.Context, key string) (int, error)
	// Get returns the reminders of key not handed over yet.
	Get(ctx context.Context, key string) ([]Reminder, error)
}

// ErrEmptyKey: a reminder needs a key and an id.
var ErrEmptyKey = errors.New("reminders: a reminder needs an id and a key")
