package sessions

import (
	"bytes"
	"cmp"
	"container/list"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const (
	defaultTTL           = 5 * time.Minute
	defaultMaxRecords    = 1_000_000
	defaultMaxNew        = 100_000
	defaultSweepInterval = time.Minute
	memoryShards         = 64
)

// MemoryOptions configures NewMemory. Zero values select the defaults.
type MemoryOptions struct {
	// DefaultTTL applies to writes whose ttl is zero. Default 5 minutes.
	DefaultTTL time.Duration
	// MaxRecords caps the records held, expired ones not yet swept included.
	// Default 1,000,000.
	MaxRecords int
	// MaxNew caps, per origin (a carrier: see WithOrigin), the new
	// records: created under an origin and never written since — what
	// first hops wrote for citizens who have not answered yet. Beyond it
	// the origin's oldest new record is dropped. Default 100,000;
	// negative: no cap per origin.
	MaxNew int
	// SweepInterval is how often the janitor frees expired records.
	// Default 1 minute.
	SweepInterval time.Duration
	// Now is the clock. Tests inject one to expire records without sleeping.
	// Default time.Now.
	Now func() time.Time
}

// Memory is a Store inside the process, for a single instance and for tests.
//
// A flood of first hops from made-up numbers must not lock citizens out,
// so new records (see MaxNew) are cheap to lose: each origin holds at most
// MaxNew of them, and when the store is full the oldest new record of the
// origin holding most is dropped to make room. A citizen whose first screen
// is dropped that way dials again; nobody loses a conversation in progress.
// Records written more than once (a conversation past its first answer, a
// language remembered) are never dropped: when the store is full of those
// it refuses new keys with ErrFull.
type Memory struct {
	shards [memoryShards]shard
	seed   maphash.Seed
	now    func() time.Time
	ttl    time.Duration
	max    int64
	n      atomic.Int64 // records held in all shards, live or expired
	maxNew int
	adm    admission

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type shard struct {
	mu sync.Mutex
	m  map[string]entry
	// Padding to a cache line keeps shards that are locked by different
	// cores from invalidating each other's line.
	_ [64 - 16]byte
}

// entry.data is never modified after it is stored, only replaced, so readers
// may copy it after releasing the shard lock.
type entry struct {
	data    []byte
	rev     uint64
	expires time.Time     // from Now; with time.Now it carries the monotonic clock, so wall-clock steps do not expire sessions
	new     *list.Element // a new record's place in its origin's line; nil once written again
}

// admission keeps the new records of each origin in the order they came.
// Lock order: a shard's lock, then admission's, never the other way.
type admission struct {
	mu    sync.Mutex
	lines map[string]*line
	seq   uint64 // the last newRecord.seq given
}

// line is one origin's new records, oldest first.
type line struct {
	origin  string
	queue   list.List // of *newRecord
	evicted uint64
}

type newRecord struct {
	key  string
	line *line
	seq  uint64 // order of writing, across origins
}

type originKey struct{}

// WithOrigin says where the writes made with ctx come from: the gateway
// tags what a first hop writes (the conversation, the channel an SMS
// number wrote on) with its carrier. The memory store counts and drops new
// records per origin (see MaxNew); other stores ignore it.
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

func originOf(ctx context.Context) (string, bool) {
	o, ok := ctx.Value(originKey{}).(string)
	return o, ok
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store and starts its janitor; Close stops it.
func NewMemory(opts MemoryOptions) *Memory {
	m := &Memory{
		seed: maphash.MakeSeed(),
		now:  opts.Now,
		ttl:  opts.DefaultTTL,
		max:  int64(opts.MaxRecords),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.ttl <= 0 {
		m.ttl = defaultTTL
	}
	if m.max <= 0 {
		m.max = defaultMaxRecords
	}
	switch m.maxNew = opts.MaxNew; {
	case m.maxNew == 0:
		m.maxNew = defaultMaxNew
	case m.maxNew < 0:
		m.maxNew = 0
	}
	m.adm.lines = make(map[string]*line)
	for i := range m.shards {
		m.shards[i].m = make(map[string]entry)
	}
	every := opts.SweepInterval
	if every <= 0 {
		every = defaultSweepInterval
	}
	go m.janitor(every)
	return m
}

func (m *Memory) shard(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%memoryShards]
}

// Get returns the record under key, or ErrNotFound. Its Data is the
// store's own, never modified once stored: the hop only decodes it, and a
// copy per hop would be a kilobyte of garbage each time.
func (m *Memory) Get(ctx context.Context, key string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	now := m.now()
	sh := m.shard(key)
	sh.mu.Lock()
	e, ok := sh.m[key]
	sh.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		return Record{}, ErrNotFound
	}
	return Record{Data: e.data, Rev: e.rev}, nil
}

// Put stores a copy of data if the live revision under key is rev (0: no
// live record) and returns the new revision.
func (m *Memory) Put(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration) (uint64, error) {
	return m.write(ctx, key, data, true, rev, ttl)
}

// Set stores a copy of data whatever the revision under key.
func (m *Memory) Set(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	_, err := m.write(ctx, key, data, false, 0, ttl)
	return err
}

func (m *Memory) write(ctx context.Context, key string, data []byte, check bool, rev uint64, ttl time.Duration) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ttl, err := ttlOrDefault(ttl, m.ttl)
	if err != nil {
		return 0, err
	}
	// Copied before locking to keep the critical section short; a conflict
	// wastes the copy, but conflicts are rare.
	data = bytes.Clone(data)
	origin, tagged := originOf(ctx)

	for {
		now := m.now()
		sh := m.shard(key)
		sh.mu.Lock()
		old, exists := sh.m[key]
		var cur uint64
		if exists && now.Before(old.expires) {
			cur = old.rev
		}
		if check && cur != rev {
			sh.mu.Unlock()
			return 0, ErrConflict
		}
		// An expired record still in the map is replaced in place and
		// needs no room; only a key new to the map does.
		if !exists && !m.reserve() {
			m.dropExpired(sh, now)
			if !m.reserve() {
				sh.mu.Unlock()
				// Dropped without the shard's lock, which the victim's
				// shard may be: then everything is looked at again.
				if !m.evictOldest() {
					return 0, ErrFull
				}
				continue
			}
		}
		e := entry{data: data, rev: cur + 1, expires: now.Add(ttl)}
		if exists && old.new != nil {
			m.unqueue(old.new)
		}
		var over *line
		if cur == 0 && tagged {
			e.new, over = m.queue(origin, key)
		}
		sh.m[key] = e
		sh.mu.Unlock()
		if over != nil {
			m.trim(over)
		}
		return cur + 1, nil
	}
}

// queue puts a new record at the back of its origin's line and returns
// the line when it is now over MaxNew.
func (m *Memory) queue(origin, key string) (*list.Element, *line) {
	m.adm.mu.Lock()
	defer m.adm.mu.Unlock()
	l := m.adm.lines[origin]
	if l == nil {
		l = &line{origin: origin}
		m.adm.lines[origin] = l
	}
	m.adm.seq++
	el := l.queue.PushBack(&newRecord{key: key, line: l, seq: m.adm.seq})
	if m.maxNew > 0 && l.queue.Len() > m.maxNew {
		return el, l
	}
	return el, nil
}

// unqueue takes a record out of its line: written again, deleted or
// expired. The caller holds the record's shard lock.
func (m *Memory) unqueue(el *list.Element) {
	m.adm.mu.Lock()
	el.Value.(*newRecord).line.queue.Remove(el)
	m.adm.mu.Unlock()
}

// trim drops the oldest new records of l until it is within MaxNew.
func (m *Memory) trim(l *line) {
	for {
		m.adm.mu.Lock()
		if l.queue.Len() <= m.maxNew {
			m.adm.mu.Unlock()
			return
		}
		el := l.queue.Front()
		m.adm.mu.Unlock()
		m.evict(el)
	}
}

// evictOldest drops the oldest new record of the origin holding most, to
// make room in a full store; of origins holding as many, the one whose
// oldest new record was written first. It reports false when there is none.
func (m *Memory) evictOldest() bool {
	for {
		m.adm.mu.Lock()
		var most *line
		for _, l := range m.adm.lines {
			if l.queue.Len() > 0 && (most == nil || l.queue.Len() > most.queue.Len() ||
				l.queue.Len() == most.queue.Len() && front(l).seq < front(most).seq) {
				most = l
			}
		}
		if most == nil {
			m.adm.mu.Unlock()
			return false
		}
		el := most.queue.Front()
		m.adm.mu.Unlock()
		if m.evict(el) {
			return true
		}
	}
}

func front(l *line) *newRecord { return l.queue.Front().Value.(*newRecord) }

// evict drops the record el stands for if it is still that new record. A
// record written again in the meantime has left its line already, so a
// caller that loops on the line's front always moves on.
func (m *Memory) evict(el *list.Element) bool {
	rec := el.Value.(*newRecord)
	sh := m.shard(rec.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[rec.key]
	if !ok || e.new != el {
		return false
	}
	delete(sh.m, rec.key)
	m.n.Add(-1)
	m.adm.mu.Lock()
	rec.line.queue.Remove(el)
	rec.line.evicted++
	m.adm.mu.Unlock()
	return true
}

// Admitted is what the store holds of one origin's new records.
type Admitted struct {
	Origin  string
	New     int    // new records held now
	Evicted uint64 // new records dropped to make room, so far
}

// Admission reports every origin's new records, by origin, for metrics.
func (m *Memory) Admission() []Admitted {
	m.adm.mu.Lock()
	out := make([]Admitted, 0, len(m.adm.lines))
	for _, l := range m.adm.lines {
		out = append(out, Admitted{Origin: l.origin, New: l.queue.Len(), Evicted: l.evicted})
	}
	m.adm.mu.Unlock()
	slices.SortFunc(out, func(a, b Admitted) int { return cmp.Compare(a.Origin, b.Origin) })
	return out
}

// MaxNew is the cap on each origin's new records; 0: none.
func (m *Memory) MaxNew() int { return m.maxNew }

// reserve counts one more record unless that would exceed the cap. It
// compares and swaps so that shards filling up at once cannot overshoot.
func (m *Memory) reserve() bool {
	for {
		n := m.n.Load()
		if n >= m.max {
			return false
		}
		if m.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Delete removes key; a missing key is not an error.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := m.shard(key)
	sh.mu.Lock()
	if e, ok := sh.m[key]; ok {
		if e.new != nil {
			m.unqueue(e.new)
		}
		delete(sh.m, key)
		m.n.Add(-1)
	}
	sh.mu.Unlock()
	return nil
}

// Ping reports whether ctx is still usable: the store itself cannot fail.
func (m *Memory) Ping(ctx context.Context) error {
	return ctx.Err()
}

// Close stops the janitor and waits for it. The records stay readable and
// writable, but expired ones are then only freed by writes of new keys.
// Calling Close more than once is harmless.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		close(m.stop)
		<-m.done
	})
	return nil
}

// Len returns the number of records held, including expired records not yet
// swept, for gauges and tests.
func (m *Memory) Len() int {
	return int(m.n.Load())
}

func (m *Memory) janitor(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.sweep()
		}
	}
}

// sweep frees expired records, one shard at a time so that hops never wait
// for more than one shard's worth of scanning.
func (m *Memory) sweep() {
	for i := range m.shards {
		sh := &m.shards[i]
		now := m.now()
		sh.mu.Lock()
		m.dropExpired(sh, now)
		sh.mu.Unlock()
	}
}

// dropExpired frees the expired records of sh, whose lock the caller holds.
func (m *Memory) dropExpired(sh *shard, now time.Time) {
	var dropped int64
	for k, e := range sh.m {
		if !now.Before(e.expires) {
			if e.new != nil {
				m.unqueue(e.new)
			}
			delete(sh.m, k)
			dropped++
		}
	}
	m.n.Add(-dropped)
}

// ttlOrDefault resolves the ttl of a write. A negative ttl is refused rather
// than clamped: it means the caller computed a deadline that has already
// passed, and storing the session anyway would hide that bug.
func ttlOrDefault(ttl, def time.Duration) (time.Duration, error) {
	switch {
	case ttl == 0:
		return def, nil
	case ttl < 0:
		return 0, fmt.Errorf("sessions: negative ttl %v", ttl)
	}
	return ttl, nil
}
