package audit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/audit"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// stuckSink blocks every Write until released, like a disk that hangs.
type stuckSink struct {
	*MemorySink
	entered chan struct{}
	release chan struct{}
}

func newStuckSink() *stuckSink {
	return &stuckSink{MemorySink: NewMemorySink(), entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (s *stuckSink) Write(ctx context.Context, r audit.Record) error {
	s.entered <- struct{}{}
	<-s.release
	return s.MemorySink.Write(ctx, r)
}

func TestAsyncDropsWhenFullInsteadOfBlocking(t *testing.T) {
	inner := newStuckSink()
	a := audit.NewAsync(inner, 2)
	ctx := context.Background()

	if err := a.Write(ctx, outcome("first")); err != nil {
		t.Fatal(err)
	}
	<-inner.entered // the worker holds "first"; the queue is empty
	for _, f := range []string{"q1", "q2"} {
		if err := a.Write(ctx, outcome(f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	start := time.Now()
	for range 5 {
		if err := a.Write(ctx, outcome("dropped")); !errors.Is(err, audit.ErrDropped) {
			t.Fatalf("queue full: err = %v, want ErrDropped", err)
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("writes to a full queue took %v", d)
	}
	if n := a.Dropped(); n != 5 {
		t.Errorf("Dropped() = %d, want 5", n)
	}

	close(inner.release)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var flows []string
	for _, r := range inner.Records() {
		flows = append(flows, r.Flow)
	}
	if len(flows) != 3 || flows[0] != "first" || flows[1] != "q1" || flows[2] != "q2" {
		t.Errorf("inner got %v, want [first q1 q2]", flows)
	}
	if !inner.Closed() {
		t.Error("Close did not close the inner sink")
	}
}

func TestAsyncFlushesOnClose(t *testing.T) {
	inner := NewMemorySink()
	a := audit.NewAsync(inner, 1000)
	for range 1000 {
		if err := a.Write(context.Background(), outcome("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(inner.Records()); n != 1000 || a.Dropped() != 0 {
		t.Errorf("inner has %d records, %d dropped; want 1000, 0", n, a.Dropped())
	}
	if err := a.Write(context.Background(), outcome("x")); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("after Close: err = %v, want ErrClosed", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestAsyncStampsAndValidatesAtWrite(t *testing.T) {
	inner := NewMemorySink()
	a := audit.NewAsync(inner, 10)
	bad := outcome("x")
	bad.Citizen = "0991234567"
	if err := a.Write(context.Background(), bad); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
	before := time.Now()
	if err := a.Write(context.Background(), outcome("x")); err != nil {
		t.Fatal(err)
	}
	a.Close()
	recs := inner.Records()
	if len(recs) != 1 || recs[0].Time.Before(before) || recs[0].Time.After(time.Now()) {
		t.Errorf("records = %+v", recs)
	}
}

func TestAsyncCountsInnerFailures(t *testing.T) {
	inner := NewMemorySink()
	inner.Close() // every write now fails
	a := audit.NewAsync(inner, 10)
	for range 3 {
		if err := a.Write(context.Background(), outcome("x")); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	if n := a.Failed(); n != 3 {
		t.Errorf("Failed() = %d, want 3", n)
	}
}

func TestAsyncWriteRacingClose(t *testing.T) {
	inner := NewMemorySink()
	a := audit.NewAsync(inner, 16)
	var wg sync.WaitGroup
	var accepted sync.Map
	var tries atomic.Int32
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				r := outcome("x")
				r.Step = string(rune('a'+w)) + string(rune('0'+i%10))
				if a.Write(context.Background(), r) == nil {
					accepted.Store([2]int{w, i}, true)
				}
				tries.Add(1)
			}
		})
	}
	// Close once the writers are under way, while most writes are to come.
	testutil.WaitFor(t, "the first writes", func() bool { return tries.Load() >= 8 })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	n := 0
	accepted.Range(func(any, any) bool { n++; return true })
	if got := len(inner.Records()); got != n {
		t.Errorf("%d writes accepted, %d reached the inner sink", n, got)
	}
}

type discardSink struct{}

func (discardSink) Write(context.Context, audit.Record) error { return nil }
func (discardSink) Close() error                              { return nil }

// BenchmarkAsyncWrite is what a hop pays to leave a record.
func BenchmarkAsyncWrite(b *testing.B) {
	a := audit.NewAsync(discardSink{}, 1<<16)
	defer a.Close()
	r := sample()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = a.Write(ctx, r)
	}
}
