package indicators

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// testStore is the contract both stores keep.
func testStore(t *testing.T, s Store) {
	ctx := context.Background()
	turnos := Dims{Flow: "turnos", Institution: "Registro Civil", Channel: "ussd", Carrier: "africastalking", Locale: "es"}
	odd := Dims{Flow: "a\x1fb", Institution: "Defensoría del Pueblo", Channel: "sms", Carrier: "kannel-sms", Locale: "qu"}
	d0, d1 := day(0).Format(DayLayout), day(1).Format(DayLayout)
	if err := s.Add(ctx, map[Cell]int64{
		{d0, turnos, MetricStarted}:       5,
		{d0, turnos, MetricRating + ":4"}: 2,
		{d1, odd, MetricStarted}:          1,
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, map[Cell]int64{{d0, turnos, MetricStarted}: 3}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Read(ctx, []string{d0, d1, day(2).Format(DayLayout)})
	if err != nil {
		t.Fatal(err)
	}
	odd.Flow = "a b" // the separator cannot be stored
	want := map[Cell]int64{
		{d0, turnos, MetricStarted}:       8,
		{d0, turnos, MetricRating + ":4"}: 2,
		{d1, odd, MetricStarted}:          1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("read %v\nwant %v", got, want)
	}
	only, _ := s.Read(ctx, []string{d1})
	if len(only) != 1 {
		t.Errorf("reading one day: %v", only)
	}
}

func TestMemoryStore(t *testing.T) { testStore(t, NewMemory()) }

func TestRedisStore(t *testing.T) {
	c := redistest.Start(t)
	testStore(t, NewRedis(c, 48*time.Hour))
	ttl := c.TTL(context.Background(), KeyPrefix+day(0).Format(DayLayout)).Val()
	if ttl <= 47*time.Hour || ttl > 48*time.Hour {
		t.Errorf("a day's counts expire in %v; want the retention, 48h", ttl)
	}
}

// failing refuses writes until ok is set.
type failing struct {
	*Memory
	mu sync.Mutex
	ok bool
}

func (f *failing) Add(ctx context.Context, b map[Cell]int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ok {
		return errors.New("down")
	}
	return f.Memory.Add(ctx, b)
}

func TestCounterKeepsCountsWhileTheStoreIsDown(t *testing.T) {
	store := &failing{Memory: NewMemory()}
	clock := testutil.NewClock(time.Date(2026, 12, 1, 23, 59, 0, 0, mustZone(DefaultZone)))
	c := NewCounter(store, Options{Now: clock.Now, Interval: time.Hour})
	defer c.Close()
	d := Dims{Flow: "turnos", Channel: "sms"}
	c.Started(d)
	if err := c.Flush(context.Background()); err == nil {
		t.Fatal("flush into a store that is down: no error")
	}
	clock.Advance(2 * time.Minute) // past midnight in Guayaquil
	c.Started(d)
	c.Rated(d, 5)
	c.Rated(d, 9) // not a score
	store.mu.Lock()
	store.ok = true
	store.mu.Unlock()
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Read(context.Background(), []string{"2026-12-01", "2026-12-02"})
	want := map[Cell]int64{
		{"2026-12-01", d, MetricStarted}:       1,
		{"2026-12-02", d, MetricStarted}:       1,
		{"2026-12-02", d, MetricRating + ":5"}: 1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("stored %v\nwant %v", got, want)
	}
}

func TestCounterBoundsWhatItKeeps(t *testing.T) {
	store := &failing{Memory: NewMemory()}
	c := NewCounter(store, Options{Interval: time.Hour, MaxCells: 2})
	defer c.Close()
	for _, f := range []string{"a", "b", "c", "c"} {
		c.Started(Dims{Flow: f})
	}
	if got := c.dropped.Load(); got != 2 {
		t.Errorf("dropped %d counts past 2 cells; want 2", got)
	}
}

func TestCloseStoresWhatIsPending(t *testing.T) {
	m := NewMemory()
	c := NewCounter(m, Options{Interval: time.Hour})
	c.Ended(Dims{Flow: "turnos"}, End{Completed: true, Hops: 7, Duration: 42 * time.Second})
	c.Close()
	got, _ := m.Read(context.Background(), []string{c.day()})
	if len(got) != 3 {
		t.Errorf("after Close the store holds %v; want completed, hops:7 and secs:45", got)
	}
}

// While its store's breaker is open, the counter does not try it: a hop
// must never wait on a store that is down, nor send it a command.
func TestCounterHoldsWhileTheStoreIsHeldOff(t *testing.T) {
	store := &failing{Memory: NewMemory(), ok: true}
	held := true
	c := NewCounter(store, Options{Interval: time.Hour, Hold: func() bool { return held }})
	defer c.Close()
	c.Started(Dims{Flow: "turnos"})
	if err := c.Flush(context.Background()); !errors.Is(err, ErrHeld) {
		t.Fatalf("flush while held: %v, want ErrHeld", err)
	}
	if got, _ := store.Read(context.Background(), []string{c.day()}); len(got) != 0 {
		t.Fatalf("the store got %v while held off", got)
	}
	held = false
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Read(context.Background(), []string{c.day()}); len(got) != 1 {
		t.Errorf("after the hold the store has %v; want the count kept", got)
	}
}
