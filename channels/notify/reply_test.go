package notify_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
)

// askers keeps the questions it is asked to keep.
type askers struct {
	mu  sync.Mutex
	got []notify.Question
}

func (a *askers) Ask(_ context.Context, q notify.Question) error {
	a.mu.Lock()
	a.got = append(a.got, q)
	a.mu.Unlock()
	return nil
}

func replying(a notify.Asker) func(*notify.Options) {
	return func(o *notify.Options) {
		o.Asker = a
		o.ReplyFlows = func() []string { return []string{"cita-respuesta", "turnos"} }
	}
}

// A notification that asks keeps its question before it goes out: the
// flow the answer runs, its variables, until when, in the notification's
// language and channel; the same request again asks the same.
func TestNotificationWithReplyKeepsItsQuestion(t *testing.T) {
	a := &askers{}
	f := newFixture(t, replying(a))
	body := `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "123"}, "idempotency_key": "q1",
		"reply": "cita-respuesta", "reply_vars": {"cita": "C-77"}, "reply_within": "48h"}`
	r := f.post(t, civilToken, body)
	if r.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", r.Code, r.Body)
	}
	if again := f.post(t, civilToken, body); again.Code != http.StatusAccepted || again.Body["id"] != r.Body["id"] {
		t.Fatalf("POST again: %d %v", again.Code, again.Body)
	}
	if changed := f.post(t, civilToken, strings.Replace(body, "C-77", "C-78", 1)); changed.Code != http.StatusUnprocessableEntity {
		t.Errorf("the same key with other reply_vars: %d, want 422", changed.Code)
	}
	if len(a.got) != 2 {
		t.Fatalf("asked %d times, want 2 (the repeat asks the same question)", len(a.got))
	}
	q := a.got[0]
	want := notify.Question{ID: r.Body["id"].(string), Institution: "registro_civil", To: "+593991234567", Channel: "sms", Carrier: "twilio-sms",
		Locale: "es", Flow: "cita-respuesta", Until: f.clock.Add(48 * time.Hour)}
	if q.Vars["cita"] != "C-77" || len(q.Vars) != 1 {
		t.Errorf("vars %v", q.Vars)
	}
	q.Vars = nil
	if !reflect.DeepEqual(q, want) {
		t.Errorf("question\n %+v\nwant\n %+v", q, want)
	}
}

// A notification sent later keeps its question when it goes out, not
// before: a message the citizen sends before then answers nothing.
func TestNotificationSentLaterAsksWhenItGoesOut(t *testing.T) {
	store := reminders.NewMemory(0)
	f := newFixture(t, replying(&askers{}), func(o *notify.Options) { o.Later = reminders.Later{Store: store} })
	r := f.post(t, civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, "send_at": "2026-03-03T09:00:00-05:00", "reply": "turnos"}`)
	if r.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", r.Code, r.Body)
	}
	kept, err := store.Get(context.Background(), r.Body["id"].(string))
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept %v, %v", kept, err)
	}
	at := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
	if k := kept[0]; k.Reply != "turnos" || !k.Due.Equal(at) || !k.Event.Equal(at.Add(notify.DefaultReplyWithin)) || k.Institution != "registro_civil" {
		t.Errorf("kept %+v", k)
	}
}

func TestNotificationReplyRefused(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		asker            bool
	}{
		{"not available", `"reply": "turnos"`, "not available", false},
		{"unknown flow", `"reply": "turno"`, `did you mean "turnos"?`, true},
		{"vars without reply", `"reply_vars": {"a": "b"}`, "need reply", true},
		{"the answer's own name", `"reply": "turnos", "reply_vars": {"reply": "b"}`, "reply_vars", true},
		{"a var name that is not one", `"reply": "turnos", "reply_vars": {"a-b": "b"}`, "reply_vars", true},
		{"too long to wait", `"reply": "turnos", "reply_within": "9000h"`, "reply_within", true},
		{"not a duration", `"reply": "turnos", "reply_within": "mañana"`, "reply_within", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var edit []func(*notify.Options)
			if tc.asker {
				edit = append(edit, replying(&askers{}))
			}
			f := newFixture(t, edit...)
			r := f.post(t, civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, `+tc.body+`}`)
			if msg, _ := r.Body["error"].(string); r.Code != http.StatusBadRequest || !strings.Contains(msg, tc.want) {
				t.Errorf("%d %v, want 400 saying %q", r.Code, r.Body, tc.want)
			}
		})
	}
}
