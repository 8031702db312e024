package reminders_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
)

// testBookings: a booking's reminders are set, replaced, moved and
// cancelled by its key, within its institution.
func testBookings(t *testing.T, s reminders.Store) {
	ctx := context.Background()
	now := at(1, 9, 0)
	b := reminders.Bookings{Store: s, Now: func() time.Time { return now }}
	event := at(3, 8, 0)
	two := func(event time.Time) []reminders.Reminder {
		var rs []reminders.Reminder
		for _, before := range []time.Duration{24 * time.Hour, 2 * time.Hour} {
			rs = append(rs, reminders.Reminder{Event: event, Before: before, Due: event.Add(-before), Zone: "America/Guayaquil", Quiet: "21:00-07:00",
				Phone: "+593991234567", Channel: "sms", Text: "Turno"})
		}
		return rs
	}
	dues := func(inst, key string) string {
		rs, err := b.Get(ctx, inst, key)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.ID+"→"+r.Due.In(guayaquil).Format("02 15:04"))
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	if err := b.Set(ctx, "registro", "T-1", two(event)); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "registro", "T-1", two(event)); err != nil { // a hop run again
		t.Fatal(err)
	}
	if err := b.Set(ctx, "otra", "T-1", two(event)); err != nil { // another institution's T-1
		t.Fatal(err)
	}
	want := "registro:T-1/24h@20261203T1300Z→02 08:00 registro:T-1/2h@20261203T1300Z→03 06:00"
	if got := dues("registro", "T-1"); got != want {
		t.Fatalf("set: %s\nwant %s", got, want)
	}
	// Moved to 07:30 the day after: the 2-hour one is out of the quiet
	// hours at 07:00, and both have new ids.
	if _, err := b.Move(ctx, "registro", "T-1", at(4, 7, 30)); err != nil {
		t.Fatal(err)
	}
	want = "registro:T-1/24h@20261204T1230Z→03 07:30 registro:T-1/2h@20261204T1230Z→04 07:00"
	if got := dues("registro", "T-1"); got != want {
		t.Fatalf("moved: %s\nwant %s", got, want)
	}
	// Moved to within the day: the 24-hour one is forgotten.
	if _, err := b.Move(ctx, "registro", "T-1", at(1, 15, 0)); err != nil {
		t.Fatal(err)
	}
	want = "registro:T-1/2h@20261201T2000Z→01 13:00"
	if got := dues("registro", "T-1"); got != want {
		t.Fatalf("moved closer: %s\nwant %s", got, want)
	}
	n, err := b.Cancel(ctx, "registro", "T-1")
	if err != nil || n != 1 || dues("registro", "T-1") != "" {
		t.Fatalf("cancel: %d, %v, left %q", n, err, dues("registro", "T-1"))
	}
	if got := dues("otra", "T-1"); !strings.Contains(got, "otra:T-1/24h") {
		t.Errorf("another institution's booking: %q", got)
	}
	// Only what is due is claimed: the other institution's 24-hour one.
	got, err := s.Claim(ctx, at(2, 8, 0), time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != "otra:T-1/24h@20261203T1300Z" {
		t.Errorf("claimed %v, %v", got, err)
	}
}

func TestBookingsMemory(t *testing.T) { testBookings(t, reminders.NewMemory(0)) }

func TestBookingsRedis(t *testing.T) { testBookings(t, reminders.NewRedis(redistest.Start(t))) }
