package reminders_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
)

var guayaquil, _ = time.LoadLocation("America/Guayaquil")

func at(day, hh, mm int) time.Time { return time.Date(2026, 12, day, hh, mm, 0, 0, guayaquil) }

func reminder(id, key string, due time.Time) reminders.Reminder {
	return reminders.Reminder{ID: id, Key: key, Event: due.Add(2 * time.Hour), Before: 2 * time.Hour, Due: due,
		Phone: "+593991234567", Channel: "sms", Locale: "es", Text: "Recordatorio " + id}
}

func ids(rs []reminders.Reminder) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}

// testStore is the contract both stores keep.
func testStore(t *testing.T, s reminders.Store) {
	ctx := context.Background()
	now := at(1, 9, 0)
	if err := s.Schedule(ctx,
		reminder("T-1/24h", "T-1", now.Add(-time.Minute)),
		reminder("T-1/2h", "T-1", now.Add(time.Hour)),
		reminder("T-2/24h", "T-2", now),
	); err != nil {
		t.Fatal(err)
	}
	if err := s.Schedule(ctx, reminders.Reminder{ID: "x"}); err == nil {
		t.Error("a reminder without a key was kept")
	}
	got, err := s.Claim(ctx, now, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"T-1/24h", "T-2/24h"}; !slices.Equal(ids(got), want) {
		t.Fatalf("claimed %v, want %v", ids(got), want)
	}
	if got[0].Text == "" || got[0].Phone == "" {
		t.Errorf("claimed without its message: %+v", got[0])
	}
	if again, _ := s.Claim(ctx, now.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Errorf("claimed again within the visibility: %v", ids(again))
	}
	if err := s.Done(ctx, "T-2/24h"); err != nil {
		t.Fatal(err)
	}
	// T-1/24h was never done: its claimer died. After the visibility it is
	// claimed again.
	if again, _ := s.Claim(ctx, now.Add(2*time.Minute), time.Minute, 10); !slices.Equal(ids(again), []string{"T-1/24h"}) {
		t.Errorf("after the visibility, claimed %v; want T-1/24h", ids(again))
	}
	left, _ := s.Get(ctx, "T-1")
	if !slices.Equal(ids(left), []string{"T-1/24h", "T-1/2h"}) {
		t.Errorf("T-1 has %v", ids(left))
	}
	if n, err := s.Cancel(ctx, "T-1"); err != nil || n != 2 {
		t.Errorf("Cancel(T-1) = %d, %v; want 2", n, err)
	}
	if got, _ := s.Claim(ctx, now.Add(24*time.Hour), time.Minute, 10); len(got) != 0 {
		t.Errorf("claimed %v after cancelling", ids(got))
	}
	if left, _ := s.Get(ctx, "T-1"); len(left) != 0 {
		t.Errorf("T-1 still has %v", ids(left))
	}
}

func TestMemoryStore(t *testing.T) { testStore(t, reminders.NewMemory(0)) }
func TestRedisStore(t *testing.T)  { testStore(t, reminders.NewRedis(redistest.Start(t))) }

// sends counts what a Sender got, by id.
type sends struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *sends) Send(_ context.Context, r reminders.Reminder) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[r.ID]++
	return nil
}

func (s *sends) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.n {
		n += c
	}
	return n
}

// Two instances tick at once over one Redis: each due reminder is handed
// over once, by one of them.
func TestTwoInstancesNeverSendOneReminderTwice(t *testing.T) {
	client := redistest.Start(t)
	store := reminders.NewRedis(client)
	now := at(1, 9, 0)
	const n = 300
	var rs []reminders.Reminder
	for i := range n {
		rs = append(rs, reminder(fmt.Sprintf("T-%d/2h", i), fmt.Sprintf("T-%d", i), now.Add(-time.Duration(i)*time.Second)))
	}
	if err := store.Schedule(context.Background(), rs...); err != nil {
		t.Fatal(err)
	}
	var sent sends
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Another client: another instance.
			s := &reminders.Scheduler{Store: reminders.NewRedis(redistest.Client(t, client.Options().Addr)), Sender: &sent,
				Now: func() time.Time { return now }, Batch: 7}
			for s.Tick(context.Background()) > 0 {
			}
		}()
	}
	wg.Wait()
	if got := sent.total(); got != n {
		t.Errorf("%d handed over, want %d", got, n)
	}
	for id, c := range sent.n {
		if c != 1 {
			t.Errorf("%s handed over %d times", id, c)
		}
	}
}
