package notify_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/notify"
)

// book is a reminders store of one institution's bookings.
type book struct {
	inst  string
	kept  map[string][]notify.Reminder
	moved time.Time
}

func (b *book) Reminders(_ context.Context, inst, key string) ([]notify.Reminder, error) {
	if inst != b.inst {
		return nil, nil
	}
	return b.kept[key], nil
}

func (b *book) CancelReminders(_ context.Context, inst, key string) (int, error) {
	if inst != b.inst {
		return 0, nil
	}
	n := len(b.kept[key])
	delete(b.kept, key)
	return n, nil
}

func (b *book) MoveReminders(_ context.Context, inst, key string, at time.Time) ([]notify.Reminder, error) {
	b.moved = at
	return b.kept[key], nil
}

func TestRemindersByKey(t *testing.T) {
	due := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	b := &book{inst: "registro_civil", kept: map[string][]notify.Reminder{"T-1": {{Before: "24h", Due: due, Event: due.Add(24 * time.Hour), Channel: "sms"}}}}
	f := newFixture(t, func(o *notify.Options) { o.Reminders = b })
	for _, c := range []struct {
		name, method, path, token, body string
		status                          int
		field                           string
	}{
		{"read", http.MethodGet, "/v1/reminders/T-1", civilToken, "", http.StatusOK, ""},
		{"no token", http.MethodGet, "/v1/reminders/T-1", "", "", http.StatusUnauthorized, "Authorization"},
		{"another institution's", http.MethodGet, "/v1/reminders/T-1", iessToken, "", http.StatusNotFound, "key"},
		{"unknown key", http.MethodGet, "/v1/reminders/T-2", civilToken, "", http.StatusNotFound, "key"},
		{"a key with a space", http.MethodGet, "/v1/reminders/T%201", civilToken, "", http.StatusNotFound, "key"},
		{"move without at", http.MethodPost, "/v1/reminders/T-1/move", civilToken, `{}`, http.StatusBadRequest, "at"},
		{"move to the past", http.MethodPost, "/v1/reminders/T-1/move", civilToken, `{"at": "2026-03-01T09:00:00-05:00"}`, http.StatusBadRequest, "at"},
		{"move too far", http.MethodPost, "/v1/reminders/T-1/move", civilToken, `{"at": "2027-03-01T09:00:00-05:00"}`, http.StatusBadRequest, "at"},
		{"move with a misspelt field", http.MethodPost, "/v1/reminders/T-1/move", civilToken, `{"when": "2026-03-05T09:00:00-05:00"}`, http.StatusBadRequest, "when"},
		{"move", http.MethodPost, "/v1/reminders/T-1/move", civilToken, `{"at": "2026-03-05T09:00:00-05:00"}`, http.StatusOK, ""},
		{"cancel by another institution", http.MethodDelete, "/v1/reminders/T-1", iessToken, "", http.StatusNotFound, "key"},
		{"cancel", http.MethodDelete, "/v1/reminders/T-1", civilToken, "", http.StatusOK, ""},
		{"cancel again", http.MethodDelete, "/v1/reminders/T-1", civilToken, "", http.StatusNotFound, "key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.do(t, c.method, c.path, c.token, c.body)
			if r.Code != c.status || c.field != "" && r.Body["field"] != c.field {
				t.Errorf("%d %v; want %d on field %q", r.Code, r.Body, c.status, c.field)
			}
		})
	}
	if want := time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC); !b.moved.Equal(want) {
		t.Errorf("moved to %v, want %v", b.moved, want)
	}
}
