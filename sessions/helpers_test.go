package sessions

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// waitExpired moves the store's clock past ttl, or waits for a store on a
// real clock to drop the record: the assertion is that the record goes,
// not when exactly.
func waitExpired(t *testing.T, s Store, key string, ttl time.Duration) {
	t.Helper()
	if a, ok := s.(interface{ Advance(time.Duration) }); ok {
		a.Advance(ttl)
		if _, err := s.Get(t.Context(), key); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after ttl: %v, want ErrNotFound", err)
		}
		return
	}
	testutil.WaitFor(t, "the record to expire", func() bool {
		_, err := s.Get(t.Context(), key)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get: %v", err)
		}
		return errors.Is(err, ErrNotFound)
	})
}

func mustPut(t *testing.T, s Store, key, data string, rev uint64) uint64 {
	t.Helper()
	got, err := s.Put(t.Context(), key, []byte(data), rev, 0)
	if err != nil {
		t.Fatalf("Put %q rev %d: %v", key, rev, err)
	}
	return got
}

func mustSet(t *testing.T, s Store, key, data string) {
	t.Helper()
	if err := s.Set(t.Context(), key, []byte(data), 0); err != nil {
		t.Fatalf("Set %q: %v", key, err)
	}
}

func wantRecord(t *testing.T, s Store, key, data string, rev uint64) {
	t.Helper()
	rec, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get %q: %v", key, err)
	}
	if !bytes.Equal(rec.Data, []byte(data)) || rec.Rev != rev {
		t.Fatalf("Get %q = (%q, rev %d), want (%q, rev %d)", key, rec.Data, rec.Rev, data, rev)
	}
}

// typicalSession is a citizen three flows deep, choosing among five offices:
// the shape the store benchmarks are measured on (the codec's own tests
// measure the same one).
func typicalSession() *conversation.State {
	offices := make([]any, 5)
	for i := range offices {
		offices[i] = map[string]any{
			"id":      "OF-00" + string(rune('1'+i)),
			"name":    "Oficina Desconcentrada Quito Norte " + string(rune('A'+i)),
			"address": "Av. Amazonas N34-120 y Av. Naciones Unidas",
			"hours":   "08:30-16:30",
			"lat":     -0.1807 + float64(i)/100,
			"lon":     -78.4678,
			"queue":   int64(14 + i),
			"open":    i != 3,
		}
	}
	return &conversation.State{
		Key:          "ussd:+593991234567",
		Conversation: "ATUid_3f9a1c2e7b5d4e60a8c1b2d3",
		Phone:        "+593991234567",
		Channel:      "ussd",
		Carrier:      "africastalking",
		Locale:       "es",
		Frames: []conversation.Frame{
			{Flow: "menu", Version: 12, Step: "pick_service"},
			{Flow: "turnos", Version: 7, Step: "pick_office", Return: "after_turnos"},
			{Flow: "buscar_oficina", Version: 3, Step: "list_offices", Return: "confirm_office"},
		},
		History: []conversation.Mark{
			{Depth: 1, Step: "pick_service"},
			{Depth: 2, Step: "ask_cedula"},
			{Depth: 2, Step: "pick_district"},
			{Depth: 3, Step: "list_offices"},
		},
		Vars: map[string]any{
			"cedula":    "1712345678",
			"nombre":    "María Quispe Mamani",
			"district":  "San Juan de Lurigancho",
			"verified":  true,
			"attempts":  int64(1),
			"score":     0.87,
			"tramite":   nil,
			"offices":   offices,
			"page_size": int64(5),
		},
		Page:    1,
		Seq:     9,
		Trail:   "1*2*1712345678*3",
		Started: 1763890000000,
		Updated: 1763890042000,
	}
}
