package sample_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/sample"
)

func TestMemoryStore(t *testing.T) {
	testStoreContract(t, func(*testing.T) sample.Store { return sample.NewMemoryStore() })
}

// testStoreContract is what every Store must do; a persistent store's test
// runs it too.
func testStoreContract(t *testing.T, newStore func(*testing.T) sample.Store) {
	ctx := context.Background()
	booked := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	appt := func(code, office, slot, cedula string) sample.Appointment {
		return sample.Appointment{Code: code, Office: office, Slot: slot, Cedula: cedula, Booked: booked}
	}

	t.Run("book and read back", func(t *testing.T) {
		s := newStore(t)
		a := appt("T-1", "cuenca", "2026-11-24T09:00", "1714307103")
		if err := s.Book(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := s.Appointment(ctx, "T-1")
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("Appointment = %+v, %v; want %+v", got, err, a)
		}
		if _, err := s.Appointment(ctx, "T-2"); !errors.Is(err, sample.ErrNotFound) {
			t.Errorf("unknown code: %v", err)
		}
	})

	t.Run("a slot is held until cancelled", func(t *testing.T) {
		s := newStore(t)
		_ = s.Book(ctx, appt("T-1", "cuenca", "2026-11-24T09:00", "1714307103"))
		if err := s.Book(ctx, appt("T-2", "cuenca", "2026-11-24T09:00", "0926687856")); !errors.Is(err, sample.ErrSlotTaken) {
			t.Errorf("second booking: %v", err)
		}
		if err := s.Book(ctx, appt("T-3", "ambato", "2026-11-24T09:00", "0926687856")); err != nil {
			t.Errorf("same time at another office: %v", err)
		}
		if taken, _ := s.Taken(ctx, "cuenca"); !reflect.DeepEqual(taken, map[string]bool{"2026-11-24T09:00": true}) {
			t.Errorf("Taken = %v", taken)
		}
		if _, err := s.Cancel(ctx, "T-1", "1714307103"); err != nil {
			t.Fatal(err)
		}
		if taken, _ := s.Taken(ctx, "cuenca"); len(taken) != 0 {
			t.Errorf("Taken after cancel = %v", taken)
		}
		if err := s.Book(ctx, appt("T-4", "cuenca", "2026-11-24T09:00", "0926687856")); err != nil {
			t.Errorf("booking a freed slot: %v", err)
		}
	})

	t.Run("codes are unique", func(t *testing.T) {
		s := newStore(t)
		_ = s.Book(ctx, appt("T-1", "cuenca", "2026-11-24T09:00", "1714307103"))
		if err := s.Book(ctx, appt("T-1", "cuenca", "2026-11-24T10:30", "1714307103")); !errors.Is(err, sample.ErrDuplicateCode) {
			t.Errorf("duplicate code: %v", err)
		}
	})

	t.Run("cancel needs the code's cédula and an active appointment", func(t *testing.T) {
		s := newStore(t)
		_ = s.Book(ctx, appt("T-1", "cuenca", "2026-11-24T09:00", "1714307103"))
		if _, err := s.Cancel(ctx, "T-1", "0926687856"); !errors.Is(err, sample.ErrNotFound) {
			t.Errorf("wrong cédula: %v", err)
		}
		a, err := s.Cancel(ctx, "T-1", "1714307103")
		if err != nil || !a.Cancelled || a.Code != "T-1" {
			t.Errorf("Cancel = %+v, %v", a, err)
		}
		if _, err := s.Cancel(ctx, "T-1", "1714307103"); !errors.Is(err, sample.ErrNotFound) {
			t.Errorf("cancel twice: %v", err)
		}
		if got, _ := s.Appointment(ctx, "T-1"); !got.Cancelled {
			t.Error("cancelled appointment reads back active")
		}
	})

	t.Run("confirm needs the code's cédula and an active appointment", func(t *testing.T) {
		s := newStore(t)
		_ = s.Book(ctx, appt("T-1", "cuenca", "2026-11-24T09:00", "1714307103"))
		if _, err := s.Confirm(ctx, "T-1", "0926687856"); !errors.Is(err, sample.ErrNotFound) {
			t.Errorf("wrong cédula: %v", err)
		}
		for range 2 {
			if a, err := s.Confirm(ctx, "T-1", "1714307103"); err != nil || !a.Confirmed {
				t.Errorf("Confirm = %+v, %v", a, err)
			}
		}
		if got, _ := s.Appointment(ctx, "T-1"); !got.Confirmed || got.Cancelled {
			t.Errorf("confirmed appointment reads back %+v", got)
		}
		_, _ = s.Cancel(ctx, "T-1", "1714307103")
		if _, err := s.Confirm(ctx, "T-1", "1714307103"); !errors.Is(err, sample.ErrNotFound) {
			t.Errorf("confirm a cancelled one: %v", err)
		}
	})

	t.Run("by cédula: active ones, by slot", func(t *testing.T) {
		s := newStore(t)
		if list, err := s.ByCedula(ctx, "1714307103"); err != nil || list == nil || len(list) != 0 {
			t.Errorf("empty: %#v, %v", list, err)
		}
		_ = s.Book(ctx, appt("T-1", "cuenca", "2026-11-25T09:00", "1714307103"))
		_ = s.Book(ctx, appt("T-2", "ambato", "2026-11-24T09:00", "1714307103"))
		_ = s.Book(ctx, appt("T-3", "ambato", "2026-11-24T10:30", "0926687856"))
		_ = s.Book(ctx, appt("T-4", "cuenca", "2026-11-26T09:00", "1714307103"))
		_, _ = s.Cancel(ctx, "T-4", "1714307103")
		list, _ := s.ByCedula(ctx, "1714307103")
		var codes []string
		for _, a := range list {
			codes = append(codes, a.Code)
		}
		if !reflect.DeepEqual(codes, []string{"T-2", "T-1"}) {
			t.Errorf("ByCedula codes %q", codes)
		}
	})

	t.Run("tickets count from 1", func(t *testing.T) {
		s := newStore(t)
		for want := int64(1); want <= 3; want++ {
			if n, err := s.AddTicket(ctx, sample.Ticket{Kind: "complaint", Text: "x", Created: booked}); n != want || err != nil {
				t.Errorf("AddTicket = %d, %v; want %d", n, err, want)
			}
		}
	})

	t.Run("one slot, many bookers: one wins", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, 30)
		for i := range 30 {
			wg.Go(func() {
				errs <- s.Book(ctx, appt(fmt.Sprintf("T-%d", i), "cuenca", "2026-11-24T09:00", fmt.Sprintf("17%08d", i)))
			})
		}
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, sample.ErrSlotTaken):
				t.Error(err)
			}
		}
		if won != 1 {
			t.Errorf("%d bookings won", won)
		}
	})
}
