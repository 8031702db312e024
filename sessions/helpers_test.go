package sessions

import (
	"bytes"
	"errors"
	"testing"
	"time"

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
