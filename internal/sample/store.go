package sample

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Errors a Store returns.
var (
	ErrNotFound      = errors.New("not found")
	ErrSlotTaken     = errors.New("slot taken")
	ErrDuplicateCode = errors.New("appointment code already in use")
)

// Appointment is a booking as the store keeps it.
type Appointment struct {
	Code      string
	Office    string // office id
	Slot      string // slot id: "2026-11-24T09:00", Ecuador time
	Cedula    string
	Cancelled bool
	Booked    time.Time
	// Confirmed: the citizen said, answering a reminder, that they come.
	Confirmed bool
}

// Ticket is a message left in the citizen mailbox.
type Ticket struct {
	Kind    string // complaint, suggestion, compliment
	Text    string
	Phone   string // E.164, or empty
	Created time.Time
}

// Store keeps the sample's appointments and tickets. NewMemoryStore is the
// in-memory one; a persistent one implements the same contract (see the
// store contract test). "Active" means not cancelled: whether a time has
// passed is the handler's business, with its clock.
type Store interface {
	// Book saves a as active. Checking that no active appointment holds the
	// same office and slot and saving are one step, so of two citizens
	// booking one slot exactly one wins; the other gets ErrSlotTaken. A code
	// already in use gives ErrDuplicateCode.
	Book(ctx context.Context, a Appointment) error
	// Appointment returns the appointment with code, cancelled or not, or
	// ErrNotFound.
	Appointment(ctx context.Context, code string) (Appointment, error)
	// ByCedula returns the active appointments of cedula, by slot.
	ByCedula(ctx context.Context, cedula string) ([]Appointment, error)
	// Taken returns the slot ids of office that active appointments hold.
	Taken(ctx context.Context, office string) (map[string]bool, error)
	// Cancel cancels code if it is active and belongs to cedula, and returns
	// it; otherwise ErrNotFound, which does not tell a wrong cédula from a
	// wrong code.
	Cancel(ctx context.Context, code, cedula string) (Appointment, error)
	// Confirm marks code as confirmed if it is active and belongs to
	// cedula, and returns it; otherwise ErrNotFound, as Cancel. Confirming
	// twice is no error.
	Confirm(ctx context.Context, code, cedula string) (Appointment, error)
	// AddTicket saves t and returns its number, counting from 1.
	AddTicket(ctx context.Context, t Ticket) (int64, error)
}

// memoryStore is a Store in memory, guarded by one mutex: the sample's load
// is a demo's.
type memoryStore struct {
	mu       sync.Mutex
	byCode   map[string]*Appointment
	held     map[slotKey]string // active appointment code by office and slot
	byCedula map[string][]string
	tickets  []Ticket
}

type slotKey struct{ office, slot string }

var _ Store = (*memoryStore)(nil)

// NewMemoryStore returns an empty Store that lives as long as the process.
func NewMemoryStore() Store {
	return &memoryStore{
		byCode:   map[string]*Appointment{},
		held:     map[slotKey]string{},
		byCedula: map[string][]string{},
	}
}

func (m *memoryStore) Book(_ context.Context, a Appointment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byCode[a.Code]; ok {
		return ErrDuplicateCode
	}
	key := slotKey{a.Office, a.Slot}
	if _, ok := m.held[key]; ok {
		return ErrSlotTaken
	}
	a.Cancelled = false
	m.byCode[a.Code] = &a
	m.held[key] = a.Code
	m.byCedula[a.Cedula] = append(m.byCedula[a.Cedula], a.Code)
	return nil
}

func (m *memoryStore) Appointment(_ context.Context, code string) (Appointment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.byCode[code]
	if !ok {
		return Appointment{}, ErrNotFound
	}
	return *a, nil
}

func (m *memoryStore) ByCedula(_ context.Context, cedula string) ([]Appointment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := []Appointment{}
	for _, code := range m.byCedula[cedula] {
		if a := m.byCode[code]; !a.Cancelled {
			list = append(list, *a)
		}
	}
	slices.SortFunc(list, func(a, b Appointment) int {
		return cmp.Or(cmp.Compare(a.Slot, b.Slot), cmp.Compare(a.Office, b.Office))
	})
	return list, nil
}

func (m *memoryStore) Taken(_ context.Context, office string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	taken := map[string]bool{}
	for key := range m.held {
		if key.office == office {
			taken[key.slot] = true
		}
	}
	return taken, nil
}

func (m *memoryStore) Cancel(_ context.Context, code, cedula string) (Appointment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.byCode[code]
	if !ok || a.Cancelled || a.Cedula != cedula {
		return Appointment{}, ErrNotFound
	}
	a.Cancelled = true
	delete(m.held, slotKey{a.Office, a.Slot})
	return *a, nil
}

func (m *memoryStore) Confirm(_ context.Context, code, cedula string) (Appointment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.byCode[code]
	if !ok || a.Cancelled || a.Cedula != cedula {
		return Appointment{}, ErrNotFound
	}
	a.Confirmed = true
	return *a, nil
}

func (m *memoryStore) AddTicket(_ context.Context, t Ticket) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tickets = append(m.tickets, t)
	return int64(len(m.tickets)), nil
}
