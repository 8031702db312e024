package sessions

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

func newFakeClock() *clockwork.FakeClock {
	return testutil.NewClock(time.Date(2025, 11, 23, 10, 0, 0, 0, time.UTC))
}

// clockedMemory lets the contract suite move the clock of a Memory.
type clockedMemory struct {
	*Memory
	*clockwork.FakeClock
}

func newTestMemory(t testing.TB, opts MemoryOptions) (*Memory, *clockwork.FakeClock) {
	clock := newFakeClock()
	opts.Now = clock.Now
	m := NewMemory(opts)
	t.Cleanup(func() { _ = m.Close() })
	return m, clock
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
	testutil.WaitFor(t, "the janitor to sweep the expired record", func() bool { return m.Len() == 0 })
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

// putFrom creates key as a hop of origin's carrier would.
func putFrom(t *testing.T, m *Memory, origin, key string) {
	t.Helper()
	if _, err := m.Put(WithOrigin(t.Context(), origin), key, []byte("first screen"), 0, 0); err != nil {
		t.Fatalf("Put %s from %s: %v", key, origin, err)
	}
}

func wantGone(t *testing.T, m *Memory, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := m.Get(t.Context(), k); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get %s: %v, want it dropped", k, err)
		}
	}
}

func wantHeld(t *testing.T, m *Memory, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := m.Get(t.Context(), k); err != nil {
			t.Errorf("Get %s: %v, want it kept", k, err)
		}
	}
}

func wantAdmission(t *testing.T, m *Memory, want ...Admitted) {
	t.Helper()
	got := m.Admission()
	if len(got) != len(want) {
		t.Fatalf("admission %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("admission %+v, want %+v", got, want)
		}
	}
}

func TestMemoryNewRecordsPerOrigin(t *testing.T) {
	m, _ := newTestMemory(t, MemoryOptions{MaxNew: 3})
	for i := range 5 {
		putFrom(t, m, "flooded", "f"+strconv.Itoa(i))
	}
	putFrom(t, m, "other", "o0")
	wantGone(t, m, "f0", "f1")
	wantHeld(t, m, "f2", "f3", "f4", "o0")
	wantAdmission(t, m, Admitted{"flooded", 3, 2}, Admitted{"other", 1, 0})
	if m.Len() != 4 {
		t.Errorf("Len %d, want 4", m.Len())
	}
}

func TestMemoryAnsweredRecordsAreNeverDropped(t *testing.T) {
	m, _ := newTestMemory(t, MemoryOptions{MaxNew: 2})
	putFrom(t, m, "c", "answered")
	if _, err := m.Put(WithOrigin(t.Context(), "c"), "answered", []byte("second screen"), 1, 0); err != nil {
		t.Fatal(err)
	}
	putFrom(t, m, "c", "set later")
	mustSet(t, m, "set later", "profile")
	mustPut(t, m, "untagged", "v", 0) // not from a hop: never counted as new
	for i := range 10 {
		putFrom(t, m, "c", "f"+strconv.Itoa(i))
	}
	wantHeld(t, m, "answered", "set later", "untagged", "f8", "f9")
	wantGone(t, m, "f0", "f7")
	wantAdmission(t, m, Admitted{"c", 2, 8})
}

// What a first hop sets besides its conversation (the channel an SMS
// number wrote on) is new too, until written again.
func TestMemorySetFromAFirstHopIsNew(t *testing.T) {
	m, _ := newTestMemory(t, MemoryOptions{MaxNew: 2})
	ctx := WithOrigin(t.Context(), "sms")
	for i := range 4 {
		if err := m.Set(ctx, "pref:"+strconv.Itoa(i), []byte("sms"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	wantGone(t, m, "pref:0", "pref:1")
	wantAdmission(t, m, Admitted{"sms", 2, 2})
	if err := m.Set(ctx, "pref:2", []byte("whatsapp"), time.Hour); err != nil {
		t.Fatal(err)
	}
	wantAdmission(t, m, Admitted{"sms", 1, 2})
}

func TestMemoryFullDropsNewRecordsFirst(t *testing.T) {
	m, _ := newTestMemory(t, MemoryOptions{MaxRecords: 4, MaxNew: 100})
	mustSet(t, m, "profile", "es")
	putFrom(t, m, "flooded", "f0")
	putFrom(t, m, "flooded", "f1")
	putFrom(t, m, "quiet", "q0")
	// Full: room comes from the oldest new record of the origin holding most.
	putFrom(t, m, "quiet", "citizen")
	wantGone(t, m, "f0")
	wantHeld(t, m, "profile", "f1", "q0", "citizen")
	if _, err := m.Put(WithOrigin(t.Context(), "quiet"), "citizen", []byte("answered"), 1, 0); err != nil {
		t.Fatal(err)
	}
	mustSet(t, m, "another profile", "qu") // each origin holds one new record: room from the older, f1
	wantAdmission(t, m, Admitted{"flooded", 0, 2}, Admitted{"quiet", 1, 0})
	wantHeld(t, m, "profile", "another profile", "citizen", "q0")

	// Full of records that are not new: refused, nobody's dropped.
	if _, err := m.Put(WithOrigin(t.Context(), "quiet"), "q0", []byte("answered"), 1, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Put(WithOrigin(t.Context(), "flooded"), "f9", []byte("v"), 0, 0); !errors.Is(err, ErrFull) {
		t.Fatalf("Put of a new key in a store full of answered records: %v, want ErrFull", err)
	}
	if m.Len() != 4 {
		t.Errorf("Len %d, want 4", m.Len())
	}
}

func TestMemoryNewRecordsLeaveTheLineWhenGone(t *testing.T) {
	m, clock := newTestMemory(t, MemoryOptions{MaxNew: 10, DefaultTTL: time.Minute})
	putFrom(t, m, "c", "deleted")
	putFrom(t, m, "c", "expires")
	if err := m.Delete(t.Context(), "deleted"); err != nil {
		t.Fatal(err)
	}
	wantAdmission(t, m, Admitted{"c", 1, 0})
	clock.Advance(time.Minute)
	m.sweep()
	wantAdmission(t, m, Admitted{"c", 0, 0})
	// An expired record replaced in place by a new one is new again.
	putFrom(t, m, "c", "again")
	clock.Advance(time.Minute)
	putFrom(t, m, "c", "again")
	wantAdmission(t, m, Admitted{"c", 1, 0})
}

// TestMemoryAdmissionUnderRace writes, answers and deletes from many
// goroutines with small caps; afterwards the counts agree with what the
// shards hold.
func TestMemoryAdmissionUnderRace(t *testing.T) {
	m, _ := newTestMemory(t, MemoryOptions{MaxRecords: 300, MaxNew: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := WithOrigin(context.Background(), "c"+strconv.Itoa(g%3))
			for i := range 2000 {
				k := "k" + strconv.Itoa((g*7919+i*31)%900)
				rev, err := m.Put(ctx, k, []byte("v"), 0, 0)
				switch {
				case err == nil && i%3 == 0:
					_, _ = m.Put(ctx, k, []byte("answered"), rev, 0)
				case err == nil && i%5 == 0:
					_ = m.Delete(ctx, k)
				case err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrFull):
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	held, fresh := 0, map[string]int{}
	for i := range m.shards {
		for _, e := range m.shards[i].m {
			held++
			if e.new != nil {
				fresh[e.new.Value.(*newRecord).line.origin]++
			}
		}
	}
	if held != m.Len() || held > 300 {
		t.Errorf("shards hold %d records, Len says %d, cap 300", held, m.Len())
	}
	for _, a := range m.Admission() {
		if a.New != fresh[a.Origin] || a.New > 50 {
			t.Errorf("origin %s: admission says %d new, shards hold %d, cap 50", a.Origin, a.New, fresh[a.Origin])
		}
	}
}

// BenchmarkMemoryFlood is a flood of first hops from rotating numbers into
// the memory store as the gateway writes them (first-screen sessions, one
// carrier), 1,000,000 of them against the default caps; it reports the
// heap the store keeps afterwards.
func BenchmarkMemoryFlood(b *testing.B) {
	s := conversation.State{Key: "ussd:+593980000000", Phone: "+593980000000", Channel: "ussd", Carrier: "africastalking",
		Locale: "es", Conversation: "ATUid_0123456789abcdef", Frames: []conversation.Frame{{Flow: "inicio", Version: 1, Step: "idioma"}},
		Vars: map[string]any{"language_chosen": false}, Seq: 1, Started: 1764000000000, Updated: 1764000000000}
	data, err := s.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	ctx := WithOrigin(context.Background(), "africastalking")
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := NewMemory(MemoryOptions{})
		for i := range 1_000_000 {
			if _, err := m.Put(ctx, "ussd:+59398"+strconv.Itoa(10_000_000+i), data, 0, 5*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc - before.HeapAlloc)
		b.ReportMetric(heap/1e6, "MB-kept")
		b.ReportMetric(heap/float64(m.Len()), "B/record")
		b.ReportMetric(float64(m.Len()), "records")
		b.ReportMetric(float64(len(data)), "B-encoded")
		runtime.KeepAlive(m)
		m.Close()
	}
}
