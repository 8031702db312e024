package notify_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
)

const later = `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "123"}, "send_at": "2026-03-03T09:00:00-05:00"}`

// A notification asked for later waits, scheduled, until its time, then
// goes through the queue like any other; one cancelled before then never
// goes.
func TestSendAt(t *testing.T) {
	store := reminders.NewMemory(0)
	f := newFixture(t, func(o *notify.Options) { o.Later = reminders.Later{Store: store} })
	f.run(t)
	s := &reminders.Scheduler{Store: store, Sender: reminders.Enqueuer{Queue: f.queue}, Now: func() time.Time { return f.clock }}

	r := f.post(t, civilToken, later)
	if r.Code != http.StatusAccepted || r.Body["status"] != "scheduled" {
		t.Fatalf("POST: %d %v, want 202 scheduled", r.Code, r.Body)
	}
	id := r.Body["id"].(string)
	g := f.get(t, civilToken, id)
	if g.Code != 200 || g.Body["status"] != "scheduled" || g.Body["send_at"] != "2026-03-03T14:00:00Z" {
		t.Errorf("GET before its time: %d %v", g.Code, g.Body)
	}
	if n := s.Tick(context.Background()); n != 0 || len(f.sms.Sent()) != 0 {
		t.Fatalf("sent %d before its time", n)
	}
	f.clock = time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
	if n := s.Tick(context.Background()); n != 1 {
		t.Fatalf("handed %d over at its time, want 1", n)
	}
	waitSent(t, f.sms, 1)
	if sent := f.sms.Sent(); sent[0].ID != id || sent[0].Text != "Su trámite 123 está listo para retirar." {
		t.Errorf("carrier got %+v", sent[0])
	}
	if g := f.get(t, civilToken, id); g.Body["status"] != "sent" || g.Body["send_at"] != "2026-03-03T14:00:00Z" {
		t.Errorf("GET after its time: %v", g.Body)
	}
	if d := f.do(t, http.MethodDelete, "/v1/notifications/"+id, civilToken, ""); d.Code != http.StatusConflict {
		t.Errorf("DELETE of a sent notification: %d %v, want 409", d.Code, d.Body)
	}

	r = f.post(t, civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "9"}, "send_at": "2026-03-04T09:00:00-05:00", "idempotency_key": "k9"}`)
	id = r.Body["id"].(string)
	if d := f.do(t, http.MethodDelete, "/v1/notifications/"+id, iessToken, ""); d.Code != http.StatusNotFound {
		t.Errorf("DELETE by another institution: %d, want 404", d.Code)
	}
	if d := f.do(t, http.MethodDelete, "/v1/notifications/"+id, civilToken, ""); d.Code != 200 || d.Body["status"] != "cancelled" {
		t.Fatalf("DELETE: %d %v, want 200 cancelled", d.Code, d.Body)
	}
	if again := f.post(t, civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "9"}, "send_at": "2026-03-04T09:00:00-05:00", "idempotency_key": "k9"}`); again.Body["status"] != "cancelled" {
		t.Errorf("repeating a cancelled request: %v, want it still cancelled", again.Body)
	}
	f.clock = f.clock.Add(48 * time.Hour)
	if n := s.Tick(context.Background()); n != 0 {
		t.Errorf("a cancelled notification was handed over")
	}
	if g := f.get(t, civilToken, id); g.Body["status"] != "cancelled" {
		t.Errorf("GET after cancelling: %v", g.Body)
	}
}

func TestSendAtRefused(t *testing.T) {
	for _, tc := range []struct {
		name, sendAt string
		later        bool
	}{
		{"not available", "2026-03-03T09:00:00-05:00", false},
		{"not RFC 3339", "mañana a las 9", true},
		{"in the past", "2026-03-01T09:00:00-05:00", true},
		{"too far ahead", "2027-03-01T09:00:00-05:00", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *notify.Options) {
				if tc.later {
					o.Later = reminders.Later{Store: reminders.NewMemory(0)}
				}
			})
			r := f.post(t, civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, "send_at": "`+tc.sendAt+`"}`)
			if r.Code != 400 || r.Body["field"] != "send_at" {
				t.Errorf("%d %v, want 400 naming send_at", r.Code, r.Body)
			}
		})
	}
}
