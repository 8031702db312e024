package sessions

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

const (
	defaultTTL           = 5 * time.Minute
	defaultMaxRecords    = 1_000_000
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
	// SweepInterval is how often the janitor frees expired records.
	// Default 1 minute.
	SweepInterval time.Duration
	// Now is the clock. Tests inject one to expire records without sleeping.
	// Default time.Now.
	Now func() time.Time
}

// Memory is a Store inside the process, for a single instance and for tests.
// It never evicts a live record to make room: when full it refuses new keys
// with ErrFull, because dropping a session silently would cut a citizen off
// in the middle of a conversation.
type Memory struct {
	shards [memoryShards]shard
	seed   maphash.Seed
	now    func() time.Time
	ttl    time.Duration
	max    int64
	n      atomic.Int64 // records held in all shards, live or expired

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
	expires time.Time // from Now; with time.Now it carries the monotonic clock, so wall-clock steps do not expire sessions
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

	now := m.now()
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	old, exists := sh.m[key]
	var cur uint64
	if exists && now.Before(old.expires) {
		cur = old.rev
	}
	if check && cur != rev {
		return 0, ErrConflict
	}
	// An expired record still in the map is replaced in place and needs no
	// room; only a key new to the map does.
	if !exists && !m.reserve() {
		m.dropExpired(sh, now)
		if !m.reserve() {
			return 0, ErrFull
		}
	}
	sh.m[key] = entry{data: data, rev: cur + 1, expires: now.Add(ttl)}
	return cur + 1, nil
}

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
	if _, ok := sh.m[key]; ok {
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
