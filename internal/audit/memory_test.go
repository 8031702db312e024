package audit_test

import (
	"context"
	"sync"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/audit"
)

// MemorySink keeps records in memory: the sink of the tests.
type MemorySink struct {
	mu      sync.Mutex
	records []audit.Record
	closed  bool
}

var _ audit.Sink = (*MemorySink)(nil)

// NewMemorySink returns an empty MemorySink.
func NewMemorySink() *MemorySink { return &MemorySink{} }

// Write keeps r, stamped with the time when it has none.
func (m *MemorySink) Write(_ context.Context, r audit.Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return audit.ErrClosed
	}
	m.records = append(m.records, r)
	return nil
}

// Close makes later writes fail; the records stay readable.
func (m *MemorySink) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// Closed reports whether Close was called.
func (m *MemorySink) Closed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// Records returns a copy of the records written so far, in order.
func (m *MemorySink) Records() []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Record(nil), m.records...)
}
