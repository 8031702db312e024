package callbacks_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
)

// The memory and Redis stores keep one contract.
func TestStoreContract(t *testing.T) {
	stores := map[string]func(t *testing.T) callbacks.Store{
		"memory": func(*testing.T) callbacks.Store { return callbacks.NewMemory(nil) },
		"redis":  func(t *testing.T) callbacks.Store { return callbacks.NewRedis(redistest.Start(t)) },
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			now := time.Now().Truncate(time.Millisecond)
			d := callbacks.Delivery{ID: "evt_1", Institution: "transito", Body: json.RawMessage(`{"id":"evt_1"}`), State: callbacks.StatePending, Created: now, Updated: now, Next: now}
			later := d
			later.ID, later.Next = "evt_2", now.Add(time.Minute)
			for _, x := range []callbacks.Delivery{d, later} {
				if ok, err := s.Add(ctx, x, time.Hour); !ok || err != nil {
					t.Fatalf("Add(%s) = %v, %v", x.ID, ok, err)
				}
			}
			if ok, err := s.Add(ctx, d, time.Hour); ok || err != nil {
				t.Fatalf("Add of a known id = %v, %v; want false, nil", ok, err)
			}

			claims, err := s.Claim(ctx, now, 30*time.Second, 10)
			if err != nil || len(claims) != 1 || claims[0].ID != "evt_1" || string(claims[0].Body) != `{"id":"evt_1"}` {
				t.Fatalf("Claim = %+v, %v; want evt_1 only", claims, err)
			}
			if again, _ := s.Claim(ctx, now.Add(29*time.Second), 30*time.Second, 10); len(again) != 0 {
				t.Fatalf("a leased delivery claimed again: %+v", again)
			}
			// The lease runs out: another claim takes it, and the first
			// can no longer record an outcome.
			second, _ := s.Claim(ctx, now.Add(31*time.Second), 30*time.Second, 1)
			if len(second) != 1 || second[0].ID != "evt_1" {
				t.Fatalf("after the lease: %+v", second)
			}
			done := claims[0].Delivery
			done.State, done.Attempts = callbacks.StateDelivered, 1
			if err := s.Update(ctx, claims[0], done, time.Hour); err == nil {
				t.Fatal("an outcome recorded under a lapsed claim")
			}
			retry := second[0].Delivery
			retry.Attempts, retry.LastError, retry.Next = 1, "answered 500", now.Add(2*time.Minute)
			if err := s.Update(ctx, second[0], retry, time.Hour); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, "evt_1")
			if err != nil || got.State != callbacks.StatePending || got.Attempts != 1 || got.LastError != "answered 500" || !got.Next.Equal(retry.Next) {
				t.Fatalf("Get = %+v, %v", got, err)
			}
			// Due again at its Next, after evt_2.
			claims, _ = s.Claim(ctx, now.Add(3*time.Minute), 30*time.Second, 10)
			if len(claims) != 2 || claims[0].ID != "evt_2" || claims[1].ID != "evt_1" {
				t.Fatalf("Claim = %+v; want evt_2 then evt_1", claims)
			}
			for _, c := range claims {
				x := c.Delivery
				x.State = callbacks.StateDelivered
				if err := s.Update(ctx, c, x, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			if left, _ := s.Claim(ctx, now.Add(time.Hour), 30*time.Second, 10); len(left) != 0 {
				t.Fatalf("finished deliveries claimed: %+v", left)
			}
			if got, _ := s.Get(ctx, "evt_2"); got.State != callbacks.StateDelivered {
				t.Fatalf("evt_2 = %+v", got)
			}
			if _, err := s.Get(ctx, "evt_9"); !errors.Is(err, callbacks.ErrNotFound) {
				t.Fatalf("Get of an unknown id: %v", err)
			}
		})
	}
}

// The memory store forgets finished deliveries after their retention,
// and keeps pending ones whatever their age.
func TestMemoryForgetsFinishedDeliveries(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	s := callbacks.NewMemory(func() time.Time { return clock })
	add := func(id, state string) {
		t.Helper()
		if ok, err := s.Add(ctx, callbacks.Delivery{ID: id, Institution: "transito", State: state, Next: clock}, time.Hour); !ok || err != nil {
			t.Fatalf("Add(%s) = %v, %v", id, ok, err)
		}
	}
	add("evt_done", callbacks.StateDelivered)
	add("evt_waiting", callbacks.StatePending)
	clock = clock.Add(2 * time.Hour)
	add("evt_new", callbacks.StatePending) // an add sweeps, at most once a minute
	if _, err := s.Get(ctx, "evt_done"); !errors.Is(err, callbacks.ErrNotFound) {
		t.Errorf("a finished delivery past its retention: %v", err)
	}
	if ok, _ := s.Add(ctx, callbacks.Delivery{ID: "evt_done", State: callbacks.StatePending, Next: clock}, time.Hour); !ok {
		t.Error("the id of a forgotten delivery is still taken")
	}
	if claims, _ := s.Claim(ctx, clock, time.Minute, 10); len(claims) != 3 {
		t.Errorf("claimed %d pending deliveries, want 3 (the old one waiting included)", len(claims))
	}
}
