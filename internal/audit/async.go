package audit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Async puts a queue in front of a sink so that writing a record never
// holds up a hop: Write hands the record to a goroutine that writes it to
// the inner sink, and when the queue is full it drops the record and
// counts it rather than wait. Dropped and Failed are for metrics; a trail
// with drops is incomplete, so size the queue for bursts and alert on them.
type Async struct {
	inner Sink
	queue chan Record

	mu     sync.RWMutex // Write holds it shared, Close exclusively: no send on a closed queue
	closed bool

	dropped atomic.Uint64
	failed  atomic.Uint64
	done    chan struct{}
}

var _ Sink = (*Async)(nil)

// DefaultBuffer is the queue length NewAsync uses for buffer <= 0.
const DefaultBuffer = 4096

// NewAsync starts writing to inner through a queue of buffer records.
func NewAsync(inner Sink, buffer int) *Async {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	a := &Async{inner: inner, queue: make(chan Record, buffer), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *Async) run() {
	defer close(a.done)
	for r := range a.queue {
		// The hop that made the record is over; its context is no
		// reason to lose the record.
		if err := a.inner.Write(context.Background(), r); err != nil {
			a.failed.Add(1)
		}
	}
}

// Write queues r, stamped with the current time when it has none, and
// returns at once: ErrDropped when the queue is full, ErrInvalid for a
// record no sink would take, ErrClosed after Close.
func (a *Async) Write(_ context.Context, r Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Time.IsZero() {
		r.Time = time.Now() // when it happened, not when the queue got to it
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return ErrClosed
	}
	select {
	case a.queue <- r:
		return nil
	default:
		a.dropped.Add(1)
		return ErrDropped
	}
}

// Dropped is how many records Write dropped because the queue was full.
func (a *Async) Dropped() uint64 { return a.dropped.Load() }

// Failed is how many queued records the inner sink refused.
func (a *Async) Failed() uint64 { return a.failed.Load() }

// Close stops taking records, writes every queued one to the inner sink
// and closes it. It waits for the inner sink as long as it takes; later
// calls return nil.
func (a *Async) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		<-a.done
		return nil
	}
	a.closed = true
	close(a.queue)
	a.mu.Unlock()
	<-a.done
	return a.inner.Close()
}
