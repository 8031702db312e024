package reminders

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Memory keeps reminders in the process: a restart forgets them. It is
// the store of a gateway whose sessions are in memory, where nothing
// survives a restart anyway.
type Memory struct {
	mu      sync.Mutex
	byID    map[string]*entry
	max     int
	dropped int
}

type entry struct {
	r     Reminder
	until time.Time // claimed until
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store holding at most max reminders (0:
// 1 000 000); past it, Schedule refuses.
func NewMemory(max int) *Memory {
	if max <= 0 {
		max = 1_000_000
	}
	return &Memory{byID: map[string]*entry{}, max: max}
}

// ErrFull: the memory store holds as many reminders as it may.
var ErrFull = errorString("reminders: the store is full")

type errorString string

func (e errorString) Error() string { return string(e) }

// Schedule implements Store.
func (m *Memory) Schedule(_ context.Context, rs ...Reminder) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		if r.ID == "" || r.Key == "" {
			return ErrEmptyKey
		}
		if _, ok := m.byID[r.ID]; !ok && len(m.byID) >= m.max {
			return ErrFull
		}
	}
	for _, r := range rs {
		m.byID[r.ID] = &entry{r: r}
	}
	return nil
}

// Claim implements Store.
func (m *Memory) Claim(_ context.Context, now time.Time, visibility time.Duration, limit int) ([]Reminder, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*entry
	for _, e := range m.byID {
		if !e.r.Due.After(now) && !e.until.After(now) {
			due = append(due, e)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].r.Due.Before(due[j].r.Due) })
	if len(due) > limit {
		due = due[:limit]
	}
	out := make([]Reminder, len(due))
	for i, e := range due {
		e.until = now.Add(visibility)
		out[i] = e.r
	}
	return out, nil
}

// Done implements Store.
func (m *Memory) Done(_ context.Context, id string) error {
	m.mu.Lock()
	delete(m.byID, id)
	m.mu.Unlock()
	return nil
}

// Cancel implements Store.
func (m *Memory) Cancel(_ context.Context, key string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, e := range m.byID {
		if e.r.Key == key {
			delete(m.byID, id)
			n++
		}
	}
	return n, nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) ([]Reminder, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Reminder
	for _, e := range m.byID {
		if e.r.Key == key {
			out = append(out, e.r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out, nil
}

// Len is how many reminders are kept.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID)
}
