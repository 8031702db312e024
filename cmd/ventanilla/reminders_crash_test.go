package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

const cancelCrashEnv = "VENTANILLA_CANCEL_CRASH_HELPER"

// cancelCrashBooking is the booking whose reminder the citizen answers
// 2 to: its other reminder must go with it.
const cancelCrashBooking = "transito:T-0001"

// cancelCrashFlow is transito's reply flow: 2 cancels the turno.
const cancelCrashFlow = `spec_version: 1
id: transito-respuesta
version: 1
institution: transito
title: {es: "Respuesta transito", en: "transito answer", qu: "transito kutichiy"}
locales: [es, en, qu]
params: [reply, code]
start: answer
steps:
  answer:
    kind: branch
    cases:
      - when: trim(reply) == "2"
        next: cancelled
    default: kept
  cancelled:
    kind: end
    text: {es: "Turno {{code}} anulado.", en: "Appointment {{code}} cancelled.", qu: "{{code}} turno anulashka."}
    reminder: cancelled
  kept:
    kind: end
    text: {es: "Turno {{code}} sigue en pie.", en: "Appointment {{code}} stands.", qu: "{{code}} turno kanrak."}
`

// diesOffHopReminders is a reminders store in a process that dies the
// moment its hop has answered: a cancellation started off the hop (on a
// context the hop did not give it) never gets to Redis.
type diesOffHopReminders struct{ reminders.Store }

func (s diesOffHopReminders) Cancel(ctx context.Context, key string) (int, error) {
	if ctx.Value(onHop{}) == nil {
		select {} // the process is dead by now
	}
	return s.Store.Cancel(ctx, key)
}

// TestCancelCrashHelperProcess is the process
// TestCancellingAnswerThenKilledCancelsReminders kills: a citizen
// answers 2 to a turno's reminder, and the process dies as soon as the
// hop has answered the citizen. It does nothing in a normal test run.
func TestCancelCrashHelperProcess(t *testing.T) {
	if os.Getenv(cancelCrashEnv) != "1" {
		return
	}
	a := replyCrashApp(t, os.Getenv("HELPER_REDIS"), os.Getenv("HELPER_DIR"))
	// Nothing is sent from this process.
	a.outbound.stopRun()
	a.outbound.done.Wait()
	a.outbound.later = diesOffHopReminders{a.outbound.later}
	ctx := context.WithValue(context.Background(), onHop{}, true)
	q := gateway.Question{ID: cancelCrashBooking + "/24h", Kind: "reminder", Key: cancelCrashBooking, Flow: "transito-respuesta",
		Vars: map[string]string{"code": "T-0001"}, Institution: "transito", Origin: "transito-consulta", Locale: "es", Channel: "sms"}
	if err := a.gateway.Questions.Ask(ctx, replyCrashPhone, q, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r, err := a.gateway.Hop(ctx, carrier.Inbound{Channel: "sms", Carrier: "twilio", Phone: replyCrashPhone, Input: "2"})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("replied %q\n", r.Text)
	select {} // until killed
}

// TestCancellingAnswerThenKilledCancelsReminders kills with SIGKILL a
// gateway that has just answered a citizen who cancelled a turno by
// answering its reminder: the turno's other reminder is gone from the
// store all the same, and an instance started after it sends nothing.
func TestCancellingAnswerThenKilledCancelsReminders(t *testing.T) {
	if os.Getenv(cancelCrashEnv) == "1" {
		t.Skip("inside the helper process")
	}
	addr, _ := redistest.StartServer(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	dir := t.TempDir()
	pkg := newPackage(t, dir, "transito", published)
	if err := os.WriteFile(filepath.Join(pkg, "flows", "transito-respuesta.yaml"), []byte(cancelCrashFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	// The turno's reminder two hours before it, still to send.
	event := time.Now().Add(3 * time.Hour)
	store := reminders.NewRedis(client)
	if err := store.Schedule(t.Context(), reminders.Reminder{ID: cancelCrashBooking + "/2h", Key: cancelCrashBooking, Event: event, Before: 2 * time.Hour,
		Due: event.Add(-2 * time.Hour), Phone: replyCrashPhone, Channel: "sms", Locale: "es", Text: "Su turno T-0001 es en dos horas.",
		Flow: "transito-consulta", Institution: "transito"}); err != nil {
		t.Fatal(err)
	}

	child := testutil.StartChild(t, "TestCancelCrashHelperProcess", asMain+"=", cancelCrashEnv+"=1", "HELPER_REDIS="+addr, "HELPER_DIR="+dir)
	testutil.WaitFor(t, "the doomed gateway to answer the citizen", func() bool {
		child.Alive(t)
		return strings.Contains(child.Output(), "replied")
	})
	child.Kill(t)
	if out := child.Output(); !strings.Contains(out, "anulado") {
		t.Fatalf("the citizen was not told the turno is cancelled:\n%s", out)
	}

	left, err := store.Get(t.Context(), cancelCrashBooking)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("the cancelled turno keeps %d reminder(s) after its gateway died: %+v", len(left), left)
	}
	// An instance started afterwards, at the reminder's time, has nothing
	// of it to send.
	due, err := store.Claim(t.Context(), event, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 0 {
		t.Errorf("at the turno's time, %d reminder(s) of the cancelled turno are due: %+v", len(due), due)
	}
}
