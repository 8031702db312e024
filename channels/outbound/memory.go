package outbound

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Memory is a Queue inside the process, for a single instance, development
// and tests. What it holds is lost if the process dies; Close drains it.
type Memory struct {
	c *core

	mu         sync.Mutex
	items      map[string]*item  // by message ID, finished ones until Retain
	byProvider map[string]string // provider id → message ID
	// owed notes the finished messages Options.Finished has not heard
	// yet (it failed, or runs now), by when the teller tries again.
	owed    map[string]time.Time
	lanes   map[string]*lane // by carrier
	changed chan struct{}    // closed and replaced whenever work appears
	seq     uint64
	closing bool
	running bool
	done    chan struct{} // closed when Run returns
	hard    context.CancelFunc
}

type item struct {
	msg carrier.Message // emptied once final: no personal data kept
	st  Status
	due time.Time
	seq uint64
}

// lane is one carrier's waiting line, earliest due first.
type lane struct {
	waiting  itemHeap
	inflight int
}

var _ Queue = (*Memory)(nil)

// NewMemory returns an empty queue; Run starts its workers.
func NewMemory(opts Options) (*Memory, error) {
	c, err := newCore(opts)
	if err != nil {
		return nil, err
	}
	q := &Memory{
		c:          c,
		items:      map[string]*item{},
		byProvider: map[string]string{},
		owed:       map[string]time.Time{},
		lanes:      map[string]*lane{},
		changed:    make(chan struct{}),
	}
	for carrier := range c.opts.Senders {
		q.lanes[carrier] = &lane{}
	}
	return q, nil
}

// Enqueue queues m unless its ID is known.
func (q *Memory) Enqueue(ctx context.Context, m carrier.Message) (string, error) {
	if err := q.c.opts.check(m); err != nil {
		return "", err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.items[m.ID]; ok {
		return m.ID, nil
	}
	if q.closing {
		return "", ErrClosed
	}
	now := q.c.opts.Now()
	if m.Deadline.IsZero() {
		m.Deadline = now.Add(q.c.opts.ValidFor)
	}
	q.seq++
	it := &item{
		msg: m,
		st:  Status{ID: m.ID, State: StateQueued, Updated: now, Deadline: m.Deadline, Carrier: m.Carrier, Channel: m.Channel},
		due: now,
		seq: q.seq,
	}
	q.items[m.ID] = it
	heap.Push(&q.lanes[m.Carrier].waiting, it)
	q.broadcast()
	return m.ID, nil
}

// Status returns the message's status.
func (q *Memory) Status(ctx context.Context, id string) (Status, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	it, ok := q.items[id]
	if !ok {
		return Status{}, ErrNotFound
	}
	return it.st, nil
}

// MarkDelivered applies a delivery report to a sent message.
func (q *Memory) MarkDelivered(ctx context.Context, providerID, state string) error {
	q.mu.Lock()
	it, ok := q.items[q.byProvider[providerID]]
	if !ok || providerID == "" {
		q.mu.Unlock()
		return ErrNotFound
	}
	to := reportedState(state)
	if to == "" || it.st.State != StateSent {
		q.mu.Unlock()
		return nil
	}
	it.st.State, it.st.Updated = to, q.c.opts.Now()
	if to == StateFailed {
		it.st.LastError = "carrier reported " + Scrub(state, carrier.Message{})
	}
	st := it.st
	q.owe(st.ID)
	q.mu.Unlock()
	q.finished(ctx, st)
	return nil
}

// owe notes, in the write that made message id final, that
// Options.Finished owes it a hearing; the caller holds q.mu.
func (q *Memory) owe(id string) {
	if q.c.opts.Finished != nil {
		q.owed[id] = q.c.opts.Now().Add(q.c.opts.FinishedEvery)
	}
}

// finished tells Options.Finished that st is final and, once it has heard
// it, forgets the note; a Finished that fails hears it again from the
// teller.
func (q *Memory) finished(ctx context.Context, st Status) {
	if q.c.opts.Finished == nil {
		return
	}
	err := q.c.opts.Finished(ctx, st)
	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		q.c.opts.Log.Warn("outbound: a finished message not heard; it is heard again later", "message_id", st.ID, "state", st.State, "err", err)
		q.owed[st.ID] = q.c.opts.Now().Add(q.c.opts.FinishedEvery)
		return
	}
	delete(q.owed, st.ID)
}

// teller hears again, every FinishedEvery, the finished messages whose
// Finished failed, until ctx is done or stop is closed.
func (q *Memory) teller(ctx context.Context, stop <-chan struct{}) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for q.c.opts.Sleep(ctx, q.c.opts.FinishedEvery) == nil {
		now := q.c.opts.Now()
		var due []Status
		q.mu.Lock()
		for id, at := range q.owed {
			it, ok := q.items[id]
			switch {
			case !ok:
				delete(q.owed, id)
			case !at.After(now):
				q.owed[id] = now.Add(q.c.opts.FinishedEvery)
				due = append(due, it.st)
			}
		}
		q.mu.Unlock()
		for _, st := range due {
			q.finished(ctx, st)
		}
	}
}

// Depth counts messages waiting, waiting for a retry, or in flight.
func (q *Memory) Depth(ctx context.Context) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.depth(), nil
}

func (q *Memory) depth() int64 {
	var n int64
	for _, l := range q.lanes {
		n += int64(l.waiting.Len() + l.inflight)
	}
	return n
}

// Run sends with Options.Workers workers per carrier until ctx is done or
// Close has drained the queue. After Close it returns at once.
func (q *Memory) Run(ctx context.Context) error {
	q.mu.Lock()
	if q.closing {
		done := q.done
		q.mu.Unlock()
		if done != nil {
			<-done
		}
		return nil
	}
	if q.running {
		q.mu.Unlock()
		return errors.New("outbound: Run called twice")
	}
	done := q.start(ctx)
	q.mu.Unlock()
	<-done
	return nil
}

// start runs the workers in the background until ctx is done or, once
// closing, the queue is empty; the caller holds q.mu.
func (q *Memory) start(ctx context.Context) <-chan struct{} {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	q.running, q.hard, q.done = true, cancel, done
	go func() {
		defer cancel()
		var wg sync.WaitGroup
		for _, l := range q.lanes {
			for range q.c.opts.Workers {
				wg.Go(func() { q.worker(ctx, l) })
			}
		}
		stop := make(chan struct{})
		var bg sync.WaitGroup
		bg.Go(func() { q.sweeper(ctx, stop) })
		if q.c.opts.Finished != nil {
			bg.Go(func() { q.teller(ctx, stop) })
		}
		wg.Wait()
		close(stop)
		bg.Wait()
		q.mu.Lock()
		q.running = false
		close(done)
		q.mu.Unlock()
	}()
	return done
}

// Close stops accepting messages and waits, within ctx, until every queued
// message has a final outcome; if Run is not running, Close runs the
// workers itself.
func (q *Memory) Close(ctx context.Context) error {
	q.mu.Lock()
	q.closing = true
	q.broadcast()
	if !q.running {
		q.start(context.Background())
	}
	done, hard := q.done, q.hard
	q.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	hard()
	<-done
	q.mu.Lock()
	left := q.depth()
	q.mu.Unlock()
	q.c.opts.Log.Error("outbound: closed before the queue drained; messages lost", "lost", left)
	return fmt.Errorf("outbound: %d messages not sent: %w", left, ctx.Err())
}

func (q *Memory) worker(ctx context.Context, l *lane) {
	for {
		q.mu.Lock()
		if ctx.Err() != nil || (q.closing && l.waiting.Len() == 0) {
			q.mu.Unlock()
			return
		}
		var wait time.Duration
		if l.waiting.Len() > 0 {
			wait = l.waiting[0].due.Sub(q.c.opts.Now())
			if wait <= 0 {
				it := heap.Pop(&l.waiting).(*item)
				l.inflight++
				q.mu.Unlock()
				q.process(ctx, l, it)
				continue
			}
		}
		changed := q.changed
		q.mu.Unlock()
		q.wait(ctx, changed, wait)
	}
}

// wait blocks until changed is closed, ctx is done or, when d > 0, d has
// passed on the queue's clock.
func (q *Memory) wait(ctx context.Context, changed <-chan struct{}, d time.Duration) {
	if d <= 0 {
		select {
		case <-changed:
		case <-ctx.Done():
		}
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-changed:
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = q.c.opts.Sleep(ctx, d)
}

func (q *Memory) process(ctx context.Context, l *lane, it *item) {
	out := q.c.attempt(ctx, ctx, it.msg, func(context.Context) (int, error) {
		q.mu.Lock()
		defer q.mu.Unlock()
		it.st.State, it.st.Updated, it.st.Next = StateSending, q.c.opts.Now(), time.Time{}
		it.st.Attempts++
		return it.st.Attempts, nil
	})
	q.mu.Lock()
	l.inflight--
	now := q.c.opts.Now()
	var failed *Status
	switch out.kind {
	case outcomeSent:
		it.st.State, it.st.Updated, it.st.ProviderID = StateSent, now, out.providerID
		if out.providerID != "" {
			q.byProvider[out.providerID] = it.st.ID
		}
		it.msg = carrier.Message{}
	case outcomeFailed:
		it.st.State, it.st.Updated, it.st.LastError = StateFailed, now, out.err
		it.msg = carrier.Message{}
		q.c.opts.Log.Warn("outbound: message failed", "message_id", it.st.ID, "carrier", it.st.Carrier, "attempts", it.st.Attempts, "err", out.err)
		st := it.st
		failed = &st
		q.owe(st.ID)
	case outcomeRetry:
		it.due = now.Add(out.delay)
		it.st.State, it.st.Updated, it.st.LastError, it.st.Next = StateQueued, now, out.err, it.due
		if out.carrier != it.msg.Carrier {
			it.msg.Carrier, it.st.Carrier = out.carrier, out.carrier
			l = q.lanes[out.carrier]
		}
		heap.Push(&l.waiting, it)
	default:
		// Stopped before an outcome: back in line, for a Run that may
		// follow. In memory nothing outlives the process anyway.
		it.st.State, it.st.Updated = StateQueued, now
		it.due = now
		heap.Push(&l.waiting, it)
	}
	q.broadcast()
	q.mu.Unlock()
	if failed != nil {
		q.finished(context.WithoutCancel(ctx), *failed)
	}
}

// sweeper forgets finished messages older than Retain, once a minute, until
// stop is closed.
func (q *Memory) sweeper(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(min(time.Minute, q.c.opts.Retain))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			q.sweep()
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (q *Memory) sweep() {
	q.mu.Lock()
	defer q.mu.Unlock()
	old := q.c.opts.Now().Add(-q.c.opts.Retain)
	for id, it := range q.items {
		if it.st.Final() && it.st.Updated.Before(old) {
			delete(q.items, id)
			if it.st.ProviderID != "" {
				delete(q.byProvider, it.st.ProviderID)
			}
		}
	}
}

// broadcast wakes every waiting worker; the caller holds q.mu.
func (q *Memory) broadcast() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// itemHeap orders a lane by due time, then by arrival.
type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(*item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
