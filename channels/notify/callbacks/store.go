package callbacks

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"
)

// States of a delivery.
const (
	StatePending   = "pending"   // waiting for its first attempt or a retry
	StateDelivered = "delivered" // the institution answered 2xx
	StateFailed    = "failed"    // given up: attempts or age ran out
)

// Delivery is one event on its way to one institution: what the store
// keeps about it.
type Delivery struct {
	ID          string          `json:"id"` // the event's id
	Institution string          `json:"i"`
	Body        json.RawMessage `json:"b"` // the event as pushed, signed afresh at each attempt
	State       string          `json:"s"`
	Attempts    int             `json:"n,omitempty"`
	LastError   string          `json:"e,omitempty"`
	Created     time.Time       `json:"c"`
	Updated     time.Time       `json:"u"`
	Next        time.Time       `json:"x,omitzero"` // when the next attempt is due, while pending
}

// Claim is a delivery taken by one worker: Until is its lease, which is
// also its fencing token — an Update under an older claim is refused.
type Claim struct {
	Delivery
	Until time.Time
}

var (
	// ErrNotFound: no delivery with that id (never pushed, or older than
	// the retention).
	ErrNotFound = errors.New("callbacks: no such delivery")
	// errLost: the lease ran out and another claim holds the delivery.
	errLost = errors.New("callbacks: claim lost")
)

// Store keeps deliveries until they are done and for Retain after. Memory
// and Redis pass one contract test.
type Store interface {
	// Add keeps d, due at d.Next, unless a delivery with its id is known:
	// then it returns false and changes nothing (a repeated push).
	Add(ctx context.Context, d Delivery, retain time.Duration) (bool, error)
	// Claim takes up to limit deliveries due at now, and hides each from
	// other claims until now+lease.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Claim, error)
	// Update records d after an attempt, if c is still the claim that
	// holds it: pending is due again at d.Next; delivered and failed
	// leave the schedule. errLost when another claim took it.
	Update(ctx context.Context, c Claim, d Delivery, retain time.Duration) error
	// Get returns the delivery with id, or ErrNotFound.
	Get(ctx context.Context, id string) (Delivery, error)
}

// Memory is a Store in the process: deliveries are lost with it.
type Memory struct {
	mu  sync.Mutex
	now func() time.Time
	all map[string]*memEntry
	due map[string]time.Time // pending ids → due or leased-until time
	// swept is when finished deliveries past their retention were last
	// forgotten: once a minute, so that a push costs the same with a
	// week of them kept.
	swept time.Time
}

type memEntry struct {
	d       Delivery
	expires time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store; now is the clock of its retention
// (default time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, all: map[string]*memEntry{}, due: map[string]time.Time{}}
}

// Len is how many deliveries are pending.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.due)
}

// Add implements Store.
func (m *Memory) Add(_ context.Context, d Delivery, retain time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
	if _, ok := m.all[d.ID]; ok {
		return false, nil
	}
	m.all[d.ID] = &memEntry{d: d, expires: m.now().Add(retain)}
	if d.State == StatePending {
		m.due[d.ID] = d.Next
	}
	return true, nil
}

// Claim implements Store.
func (m *Memory) Claim(_ context.Context, now time.Time, lease time.Duration, limit int) ([]Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id, at := range m.due {
		if !at.After(now) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return m.due[ids[i]].Before(m.due[ids[j]]) })
	if len(ids) > limit {
		ids = ids[:limit]
	}
	until := now.Add(lease)
	out := make([]Claim, 0, len(ids))
	for _, id := range ids {
		e, ok := m.all[id]
		if !ok {
			delete(m.due, id)
			continue
		}
		m.due[id] = until
		out = append(out, Claim{Delivery: e.d, Until: until})
	}
	return out, nil
}

// Update implements Store.
func (m *Memory) Update(_ context.Context, c Claim, d Delivery, retain time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.due[c.ID]
	if !ok || !at.Equal(c.Until) {
		return errLost
	}
	m.all[c.ID] = &memEntry{d: d, expires: m.now().Add(retain)}
	if d.State == StatePending {
		m.due[c.ID] = d.Next
	} else {
		delete(m.due, c.ID)
	}
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, id string) (Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.all[id]
	if !ok || m.now().After(e.expires) {
		return Delivery{}, ErrNotFound
	}
	return e.d, nil
}

// sweep forgets finished deliveries past their retention, once a minute.
func (m *Memory) sweep() {
	now := m.now()
	if now.Sub(m.swept) < time.Minute {
		return
	}
	m.swept = now
	for id, e := range m.all {
		if _, pending := m.due[id]; !pending && now.After(e.expires) {
			delete(m.all, id)
		}
	}
}
