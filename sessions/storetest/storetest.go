// Package storetest is the contract every sessions.Store passes, for the
// stores of this module and for any other: a new store proves itself with
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) sessions.Store {
//			s := mystore.New(...)
//			t.Cleanup(func() { _ = s.Close() })
//			return s
//		})
//	}
//
// A store whose clock the suite may move implements ClockAdvancer, so
// that expiry is checked without waiting; a store on a real clock is
// polled instead, for up to two seconds past the TTL.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/sessions"
)

// ClockAdvancer is implemented by test stores whose clock the suite can move,
// so that expiry is tested without sleeping. Stores on a real clock are
// polled instead.
type ClockAdvancer interface {
	Advance(time.Duration)
}

// Run runs the contract every sessions.Store passes, each assertion in a subtest
// on a store of its own. newStore returns an empty store; closing it is
// newStore's business (t.Cleanup). Assertions on a capability (such as
// sessions.MultiGetter) are skipped for a store without it.
func Run(t *testing.T, newStore func(t *testing.T) sessions.Store) {
	t.Run("get missing is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Get(t.Context(), "ussd:missing"); !errors.Is(err, sessions.ErrNotFound) {
			t.Fatalf("Get: %v, want ErrNotFound", err)
		}
	})

	t.Run("put with rev 0 creates at rev 1", func(t *testing.T) {
		s := newStore(t)
		rev := mustPut(t, s, "k", "hello", 0)
		if rev != 1 {
			t.Fatalf("rev %d, want 1", rev)
		}
		wantRecord(t, s, "k", "hello", 1)
	})

	t.Run("put with rev 0 on an existing key conflicts", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "k", "first", 0)
		if _, err := s.Put(t.Context(), "k", []byte("second"), 0, 0); !errors.Is(err, sessions.ErrConflict) {
			t.Fatalf("Put: %v, want ErrConflict", err)
		}
		wantRecord(t, s, "k", "first", 1)
	})

	t.Run("put with the current rev advances it by one", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "k", "v1", 0)
		for want := uint64(2); want <= 5; want++ {
			if got := mustPut(t, s, "k", fmt.Sprint("v", want), want-1); got != want {
				t.Fatalf("rev %d, want %d", got, want)
			}
		}
		wantRecord(t, s, "k", "v5", 5)
	})

	t.Run("put with a stale rev conflicts", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "k", "v1", 0)
		mustPut(t, s, "k", "v2", 1)
		for _, stale := range []uint64{1, 3, 1 << 40} {
			if _, err := s.Put(t.Context(), "k", []byte("lost"), stale, 0); !errors.Is(err, sessions.ErrConflict) {
				t.Fatalf("Put rev %d: %v, want ErrConflict", stale, err)
			}
		}
		wantRecord(t, s, "k", "v2", 2)
	})

	t.Run("put with a rev on a missing key conflicts", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Put(t.Context(), "k", []byte("x"), 1, 0); !errors.Is(err, sessions.ErrConflict) {
			t.Fatalf("Put: %v, want ErrConflict", err)
		}
	})

	t.Run("set creates and overwrites, bumping rev", func(t *testing.T) {
		s := newStore(t)
		mustSet(t, s, "profile", "a")
		wantRecord(t, s, "profile", "a", 1)
		mustSet(t, s, "profile", "b")
		wantRecord(t, s, "profile", "b", 2)
		if got := mustPut(t, s, "profile", "c", 2); got != 3 {
			t.Fatalf("Put after Set: rev %d, want 3", got)
		}
		mustSet(t, s, "profile", "d")
		wantRecord(t, s, "profile", "d", 4)
	})

	t.Run("delete removes", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "k", "v", 0)
		if err := s.Delete(t.Context(), "k"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Get(t.Context(), "k"); !errors.Is(err, sessions.ErrNotFound) {
			t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
		}
		if rev := mustPut(t, s, "k", "again", 0); rev != 1 {
			t.Fatalf("Put after Delete: rev %d, want 1", rev)
		}
	})

	t.Run("delete missing is not an error", func(t *testing.T) {
		s := newStore(t)
		if err := s.Delete(t.Context(), "never-stored"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	})

	t.Run("record expires after its ttl", func(t *testing.T) {
		s := newStore(t)
		const ttl = 150 * time.Millisecond
		if _, err := s.Put(t.Context(), "short", []byte("v"), 0, ttl); err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, "long", "v", 0) // default ttl: outlives "short"
		waitExpired(t, s, "short", ttl)
		if rev := mustPut(t, s, "short", "again", 0); rev != 1 {
			t.Fatalf("Put after expiry: rev %d, want 1", rev)
		}
		wantRecord(t, s, "long", "v", 1)
	})

	t.Run("set record expires after its ttl", func(t *testing.T) {
		s := newStore(t)
		const ttl = 150 * time.Millisecond
		if err := s.Set(t.Context(), "profile", []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
		waitExpired(t, s, "profile", ttl)
	})

	t.Run("negative ttl is refused", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Put(t.Context(), "k", []byte("v"), 0, -time.Second); err == nil {
			t.Error("Put with negative ttl succeeded")
		}
		if err := s.Set(t.Context(), "k", []byte("v"), -time.Second); err == nil {
			t.Error("Set with negative ttl succeeded")
		}
		if _, err := s.Get(t.Context(), "k"); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("Get: %v, want ErrNotFound", err)
		}
	})

	// Put does not keep what it is given (the gateway encodes into a
	// reused buffer); what Get returns may be the store's own and is only
	// read.
	t.Run("given data is copied", func(t *testing.T) {
		s := newStore(t)
		in := []byte("original")
		if _, err := s.Put(t.Context(), "k", in, 0, 0); err != nil {
			t.Fatal(err)
		}
		copy(in, "XXXXXXXX")
		wantRecord(t, s, "k", "original", 1)
		if _, err := s.Put(t.Context(), "k", in, 1, 0); err != nil {
			t.Fatal(err)
		}
		copy(in, "YYYYYYYY")
		wantRecord(t, s, "k", "XXXXXXXX", 2)
	})

	t.Run("empty and binary data", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "empty", "", 0)
		wantRecord(t, s, "empty", "", 1)
		bin := "\x00\x00\x00\x00\x00\x00\x00\x01\xff\x00"
		mustPut(t, s, "binary", bin, 0)
		wantRecord(t, s, "binary", bin, 1)
	})

	t.Run("keys with unusual characters are distinct", func(t *testing.T) {
		s := newStore(t)
		keys := []string{
			"ussd:+51 987 654 321",
			"chat:ñandú/ü",
			"sms:{hashtag}",
			"a*?[glob]",
			"line\nbreak",
			"nul\x00byte",
			"nul\x00bytf",
			"\xff\xfe",
			strings.Repeat("long", 500),
		}
		for i, k := range keys {
			mustPut(t, s, k, strconv.Itoa(i), 0)
		}
		for i, k := range keys {
			wantRecord(t, s, k, strconv.Itoa(i), 1)
		}
	})

	// A returning citizen's profile and the result kept for them are read
	// together; on a Redis Cluster keys of different slots must still be
	// readable together, and keys sharing a hash tag in one command.
	t.Run("get multi reads each key in order", func(t *testing.T) {
		s := newStore(t)
		mg, ok := s.(sessions.MultiGetter)
		if !ok {
			t.Skip("the store reads one key at a time")
		}
		mustPut(t, s, "profile:{+593991234567}", "es", 0)
		mustSet(t, s, "pending:{+593991234567}", "Su turno T-0001")
		mustSet(t, s, "elsewhere", "other slot")
		for _, keys := range [][]string{
			{"profile:{+593991234567}", "pending:{+593991234567}", "missing:{+593991234567}"},
			{"profile:{+593991234567}", "elsewhere", "missing"},
		} {
			recs, err := mg.GetMulti(t.Context(), keys...)
			if err != nil {
				t.Fatalf("GetMulti %q: %v", keys, err)
			}
			for i, k := range keys {
				want, err := s.Get(t.Context(), k)
				if errors.Is(err, sessions.ErrNotFound) {
					want = sessions.Record{}
				}
				if !bytes.Equal(recs[i].Data, want.Data) || recs[i].Rev != want.Rev {
					t.Errorf("GetMulti %q: record %d %+v, want %+v", keys, i, recs[i], want)
				}
			}
		}
	})

	t.Run("concurrent read-modify-write loses no update", func(t *testing.T) {
		s := newStore(t)
		const workers, rounds = 16, 50
		var conflicts atomic.Int64
		errs := make(chan error, workers)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range rounds {
					if err := increment(t.Context(), s, "counter", &conflicts); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		t.Logf("%d conflicts retried", conflicts.Load())
		wantRecord(t, s, "counter", strconv.Itoa(workers*rounds), workers*rounds)
	})

	t.Run("canceled context fails", func(t *testing.T) {
		s := newStore(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
			t.Errorf("Get: %v, want context.Canceled", err)
		}
		if _, err := s.Put(ctx, "k", []byte("v"), 0, 0); !errors.Is(err, context.Canceled) {
			t.Errorf("Put: %v, want context.Canceled", err)
		}
		if _, err := s.Get(t.Context(), "k"); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("Get after canceled Put: %v, want ErrNotFound", err)
		}
	})

	t.Run("ping", func(t *testing.T) {
		s := newStore(t)
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// increment is one hop: read, change, write back, and on conflict run again
// on top of the winner's result.
func increment(ctx context.Context, s sessions.Store, key string, conflicts *atomic.Int64) error {
	for {
		var n int
		rec, err := s.Get(ctx, key)
		switch {
		case errors.Is(err, sessions.ErrNotFound):
			rec.Rev = 0
		case err != nil:
			return err
		default:
			if n, err = strconv.Atoi(string(rec.Data)); err != nil {
				return err
			}
		}
		_, err = s.Put(ctx, key, []byte(strconv.Itoa(n+1)), rec.Rev, time.Minute)
		if !errors.Is(err, sessions.ErrConflict) {
			return err
		}
		conflicts.Add(1)
	}
}

// waitExpired moves the store's clock past ttl, or polls a store on a real
// clock for up to two seconds: the assertion is that the record goes, not
// when exactly.
func waitExpired(t *testing.T, s sessions.Store, key string, ttl time.Duration) {
	t.Helper()
	if a, ok := s.(ClockAdvancer); ok {
		a.Advance(ttl)
		if _, err := s.Get(t.Context(), key); !errors.Is(err, sessions.ErrNotFound) {
			t.Fatalf("Get after ttl: %v, want ErrNotFound", err)
		}
		return
	}
	deadline := time.Now().Add(ttl + 2*time.Second)
	for {
		_, err := s.Get(t.Context(), key)
		if errors.Is(err, sessions.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("record with ttl %v still there after %v", ttl, ttl+2*time.Second)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustPut(t *testing.T, s sessions.Store, key, data string, rev uint64) uint64 {
	t.Helper()
	got, err := s.Put(t.Context(), key, []byte(data), rev, 0)
	if err != nil {
		t.Fatalf("Put %q rev %d: %v", key, rev, err)
	}
	return got
}

func mustSet(t *testing.T, s sessions.Store, key, data string) {
	t.Helper()
	if err := s.Set(t.Context(), key, []byte(data), 0); err != nil {
		t.Fatalf("Set %q: %v", key, err)
	}
}

func wantRecord(t *testing.T, s sessions.Store, key, data string, rev uint64) {
	t.Helper()
	rec, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get %q: %v", key, err)
	}
	if !bytes.Equal(rec.Data, []byte(data)) || rec.Rev != rev {
		t.Fatalf("Get %q = (%q, rev %d), want (%q, rev %d)", key, rec.Data, rec.Rev, data, rev)
	}
}
