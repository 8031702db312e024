package sample_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/sample"
)

func openStore(t *testing.T, path string) *sample.DiskStore {
	t.Helper()
	s, err := sample.OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestDiskStore(t *testing.T) {
	testStoreContract(t, func(t *testing.T) sample.Store {
		return openStore(t, filepath.Join(t.TempDir(), "sample.db"))
	})
}

// A restart keeps bookings, cancellations, held slots and the ticket count.
func TestDiskStoreSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sample.db")
	s, err := sample.OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	a := sample.Appointment{Code: "T-1", Office: "cuenca", Slot: "2026-11-24T09:00", Cedula: "1714307103", Booked: monday}
	if err := s.Book(ctx, a); err != nil {
		t.Fatal(err)
	}
	_ = s.Book(ctx, sample.Appointment{Code: "T-2", Office: "cuenca", Slot: "2026-11-24T10:30", Cedula: "1714307103", Booked: monday})
	if _, err := s.Cancel(ctx, "T-2", "1714307103"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.AddTicket(ctx, sample.Ticket{Kind: "complaint", Text: "x", Created: monday}); n != 1 {
		t.Fatalf("ticket %d", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, path)
	if got, err := s.Appointment(ctx, "T-1"); err != nil || !got.Booked.Equal(monday) || got.Slot != a.Slot || got.Cancelled {
		t.Errorf("after restart: %+v, %v", got, err)
	}
	if got, _ := s.Appointment(ctx, "T-2"); !got.Cancelled {
		t.Error("a cancellation was lost")
	}
	if err := s.Book(ctx, sample.Appointment{Code: "T-3", Office: "cuenca", Slot: "2026-11-24T09:00", Cedula: "0926687856"}); !errors.Is(err, sample.ErrSlotTaken) {
		t.Errorf("the slot held before the restart: %v", err)
	}
	if n, _ := s.AddTicket(ctx, sample.Ticket{Kind: "complaint", Text: "y", Created: monday}); n != 2 {
		t.Errorf("ticket numbers restarted: %d", n)
	}
}

func TestDiskStoreIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sample.db")
	openStore(t, path)
	if s, err := sample.OpenStore(path); err == nil {
		_ = s.Close()
		t.Error("a second open of a store in use succeeded")
	}
}

// Through the HTTP API, with the disk store: of many citizens booking one
// slot at once, exactly one gets 201 and every other 409; after a restart
// the slot is still taken.
func TestBookingRaceOnDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sample.db")
	store, err := sample.OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sample.New(sample.Options{Now: func() time.Time { return monday }, Store: store}))
	statuses := make(chan int, 20)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"office":"cuenca","slot":"2026-11-24T09:00","cedula":"17%08d"}`, i)
			resp, err := http.Post(srv.URL+"/appointments", "application/json", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != 19 {
		t.Errorf("statuses %v, want one 201 and nineteen 409", count)
	}
	srv.Close()
	_ = store.Close()

	srv = httptest.NewServer(sample.New(sample.Options{Now: func() time.Time { return monday }, Store: openStore(t, path)}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/offices/cuenca/slots")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(data), "2026-11-24T09:00") {
		t.Errorf("after a restart the booked slot is free again: %s", data)
	}
}
