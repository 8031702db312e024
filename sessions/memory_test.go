package sessions

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 11, 23, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// clockedMemory lets the contract suite move the clock of a Memory.
type clockedMemory struct {
	*Memory
	*fakeClock
}

func newTestMemory(t testing.TB, opts MemoryOptions) (*Memory, *fakeClock) {
	clock := newFakeClock()
	opts.Now = clock.Now
	m := NewMemory(opts)
	t.Cleanup(func() { _ = m.Close() })
	return m, clock
}

func TestMemoryContract(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		m, clock := newTestMemory(t, MemoryOptions{})
		return clockedMemory{m, clock}
	})
}

func TestMemoryDefaultTTL(t *testing.T) {
	m, clock := newTestMemory(t, MemoryOptions{DefaultTTL: time.Minute})
	mustPut(t, m, "k", "v", 0)
	clock.Advance(time.Minute - time.Nanosecond)
	wantRecord(t, m, "k", "v", 1)
	clock.Advance(time.Nanosecond)
	if _, err := m.Get(t.Context(), "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get at expiry: %v, want ErrNotFound", err)
	}
}

func TestMemoryWriteRenewsTTL(t *testing.T) {
	m, clock := newTestMemory(t, MemoryOptions{DefaultTTL: time.Minute})
	mustPut(t, m, "session", "v1", 0)
	mustSet(t, m, "profile", "v1")
	clock.Advance(50 * time.Second)
	mustPut(t, m, "session", "v2", 1)
	mustSet(t, m, "profile", "v2")
	clock.Advance(50 * time.Second)
	wantRecord(t, m, "session", "v2", 2)
	wantRecord(t, m, "profile", "v2", 2)
}

func TestMemoryFull(t *testing.T) {
	m, _ := newTestMemory(t, MemoryOptions{MaxRecords: 3})
	for i := range 3 {
		mustPut(t, m, strconv.Itoa(i), "v", 0)
	}
	if _, err := m.Put(t.Context(), "new", []byte("v"), 0, 0); !errors.Is(err, ErrFull) {
		t.Fatalf("Put of a new key when full: %v, want ErrFull", err)
	}
	if err := m.Set(t.Context(), "new", []byte("v"), 0); !errors.Is(err, ErrFull) {
		t.Fatalf("Set of a new key when full: %v, want ErrFull", err)
	}

	// Live sessions carry on while the store is full.
	mustPut(t, m, "0", "v2", 1)
	mustSet(t, m, "1", "v2")
	wantRecord(t, m, "2", "v", 1)

	if err := m.Delete(t.Context(), "2"); err != nil {
		t.Fatal(err)
	}
	mustPut(t, m, "new", "v", 0)
	if m.Len() != 3 {
		t.Fatalf("Len %d, want 3", m.Len())
	}
}

// keysInShards returns a key in the shard of near and one in another shard.
func keysInShards(m *Memory, near string) (same, other string) {
	for i := 0; same == "" || other == ""; i++ {
		k := "key-" + strconv.Itoa(i)
		if m.shard(k) == m.shard(near) {
			if same == "" {
				same = k
			}
		} else if other == "" {
			other = k
		}
	}
	return same, other
}

func TestMemoryFullDropsExpiredOfItsShard(t *testing.T) {
	m, clock := newTestMemory(t, MemoryOptions{MaxRecords: 2})
	sameShard, otherShard := keysInShards(m, "old")
	if _, err := m.Put(t.Context(), "old", []byte("v"), 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Put(t.Context(), "live", []byte("v"), 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)

	// "old" has expired but sits in another shard: only the janitor frees it.
	if _, err := m.Put(t.Context(), otherShard, []byte("v"), 0, 0); !errors.Is(err, ErrFull) {
		t.Fatalf("Put in a shard without expired records: %v, want ErrFull", err)
	}

	mustPut(t, m, sameShard, "v", 0)
	if m.Len() != 2 {
		t.Fatalf("Len %d, want 2", m.Len())
	}
	wantRecord(t, m, "live", "v", 1)
}

func TestMemorySweepFreesExpired(t *testing.T) {
	m, clock := newTestMemory(t, MemoryOptions{MaxRecords: 15})
	for i := range 10 {
		if _, err := m.Put(t.Context(), "short"+strconv.Itoa(i), []byte("v"), 0, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if _, err := m.Put(t.Context(), "long"+strconv.Itoa(i), []byte("v"), 0, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Minute)
	if m.Len() != 15 {
		t.Fatalf("Len before sweep %d, want 15", m.Len())
	}
	m.sweep()
	if m.Len() != 5 {
		t.Fatalf("Len after sweep %d, want 5", m.Len())
	}
	for i := range 10 {
		mustPut(t, m, "new"+strconv.Itoa(i), "v", 0)
	}
	wantRecord(t, m, "long0", "v", 1)
}

func TestMemoryJanitorSweeps(t *testing.T) {
	m, clock := newTestMemory(t, MemoryOptions{SweepInterval: time.Millisecond})
	if _, err := m.Put(t.Context(), "k", []byte("v"), 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	deadline := time.Now().Add(2 * time.Second)
	for m.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("janitor did not sweep the expired record within 2s")
		}
		time.Sleep(time.Millisecond)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func BenchmarkMemoryGetPut(b *testing.B) {
	data, err := typicalSession().MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	m := NewMemory(MemoryOptions{})
	defer m.Close()
	benchmarkGetPut(b, m, data)
}

// benchmarkGetPut measures one hop's store traffic: read the session, write
// it back with compare-and-set.
func benchmarkGetPut(b *testing.B, s Store, data []byte) {
	ctx := b.Context()
	if _, err := s.Put(ctx, "ussd:bench", data, 0, 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec, err := s.Get(ctx, "ussd:bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Put(ctx, "ussd:bench", rec.Data, rec.Rev, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemory100kSessions stores 100,000 typical sessions in the
// memory store and reports the heap they take (MB per 100k, bytes each).
func BenchmarkMemory100kSessions(b *testing.B) {
	data, err := typicalSession().MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := NewMemory(MemoryOptions{})
		for i := range 100_000 {
			if _, err := m.Put(ctx, "ussd:+5939"+strconv.Itoa(10_000_000+i), data, 0, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc - before.HeapAlloc)
		b.ReportMetric(heap/1e6, "MB/100k")
		b.ReportMetric(heap/100_000, "B/session")
		runtime.KeepAlive(m)
		m.Close()
	}
}
