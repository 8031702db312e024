package sample

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DiskStore is a Store in a bbolt file: bookings and tickets survive a
// restart. bbolt runs one writing transaction at a time, so checking a slot
// and taking it are one step, as the Store contract asks, across
// goroutines; the file is locked against a second process.
type DiskStore struct {
	db *bolt.DB
}

var _ Store = (*DiskStore)(nil)

// Buckets. "held" is the unique constraint: one active appointment per
// office and slot.
var (
	bucketAppointments = []byte("appointments") // code → appointment JSON
	bucketHeld         = []byte("held")         // office \x00 slot → code
	bucketByCedula     = []byte("by_cedula")    // cedula \x00 code → nothing
	bucketTickets      = []byte("tickets")      // big-endian number → ticket JSON
)

// OpenStore opens (creating if needed) the store kept in the file at path.
// Close it when done; another process holding the file makes OpenStore
// fail after a second rather than wait.
func OpenStore(path string) (*DiskStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening sample store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketAppointments, bucketHeld, bucketByCedula, bucketTickets} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening sample store %s: %w", path, err)
	}
	return &DiskStore{db: db}, nil
}

// Close releases the file.
func (d *DiskStore) Close() error { return d.db.Close() }

// record is an Appointment on disk; field names are the file format.
type record struct {
	Code      string    `json:"code"`
	Office    string    `json:"office"`
	Slot      string    `json:"slot"`
	Cedula    string    `json:"cedula"`
	Cancelled bool      `json:"cancelled"`
	Booked    time.Time `json:"booked"`
	Confirmed bool      `json:"confirmed,omitempty"`
}

// ticketRecord is a Ticket on disk.
type ticketRecord struct {
	Kind    string    `json:"kind"`
	Text    string    `json:"text"`
	Phone   string    `json:"phone,omitempty"`
	Created time.Time `json:"created"`
}

func heldKey(office, slot string) []byte { return []byte(office + "\x00" + slot) }
func cedulaKey(cedula, code string) []byte {
	return []byte(cedula + "\x00" + code)
}

func getAppointment(tx *bolt.Tx, code string) (Appointment, error) {
	data := tx.Bucket(bucketAppointments).Get([]byte(code))
	if data == nil {
		return Appointment{}, ErrNotFound
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return Appointment{}, fmt.Errorf("appointment %s: %w", code, err)
	}
	return Appointment(r), nil
}

func putAppointment(tx *bolt.Tx, a Appointment) error {
	data, err := json.Marshal(record(a))
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAppointments).Put([]byte(a.Code), data)
}

func (d *DiskStore) Book(ctx context.Context, a Appointment) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketAppointments).Get([]byte(a.Code)) != nil {
			return ErrDuplicateCode
		}
		held := tx.Bucket(bucketHeld)
		key := heldKey(a.Office, a.Slot)
		if held.Get(key) != nil {
			return ErrSlotTaken
		}
		a.Cancelled = false
		if err := putAppointment(tx, a); err != nil {
			return err
		}
		if err := held.Put(key, []byte(a.Code)); err != nil {
			return err
		}
		return tx.Bucket(bucketByCedula).Put(cedulaKey(a.Cedula, a.Code), nil)
	})
}

func (d *DiskStore) Appointment(ctx context.Context, code string) (Appointment, error) {
	var a Appointment
	err := d.db.View(func(tx *bolt.Tx) (err error) {
		a, err = getAppointment(tx, code)
		return err
	})
	return a, err
}

func (d *DiskStore) ByCedula(ctx context.Context, cedula string) ([]Appointment, error) {
	list := []Appointment{}
	err := d.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(cedula + "\x00")
		cur := tx.Bucket(bucketByCedula).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			a, err := getAppointment(tx, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			if !a.Cancelled {
				list = append(list, a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b Appointment) int {
		return cmp.Or(cmp.Compare(a.Slot, b.Slot), cmp.Compare(a.Office, b.Office))
	})
	return list, nil
}

func (d *DiskStore) Taken(ctx context.Context, office string) (map[string]bool, error) {
	taken := map[string]bool{}
	err := d.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(office + "\x00")
		cur := tx.Bucket(bucketHeld).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			taken[string(k[len(prefix):])] = true
		}
		return nil
	})
	return taken, err
}

func (d *DiskStore) Cancel(ctx context.Context, code, cedula string) (Appointment, error) {
	return d.settle(ctx, code, cedula, func(tx *bolt.Tx, a *Appointment) error {
		a.Cancelled = true
		return tx.Bucket(bucketHeld).Delete(heldKey(a.Office, a.Slot))
	})
}

func (d *DiskStore) Confirm(ctx context.Context, code, cedula string) (Appointment, error) {
	return d.settle(ctx, code, cedula, func(_ *bolt.Tx, a *Appointment) error {
		a.Confirmed = true
		return nil
	})
}

// settle changes, in one transaction, the active appointment code of
// cedula (ErrNotFound for another's, a cancelled or an unknown one) and
// writes it back.
func (d *DiskStore) settle(ctx context.Context, code, cedula string, change func(tx *bolt.Tx, a *Appointment) error) (Appointment, error) {
	if err := ctx.Err(); err != nil {
		return Appointment{}, err
	}
	var a Appointment
	err := d.db.Update(func(tx *bolt.Tx) error {
		var err error
		a, err = getAppointment(tx, code)
		if errors.Is(err, ErrNotFound) || err == nil && (a.Cancelled || a.Cedula != cedula) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := change(tx, &a); err != nil {
			return err
		}
		return putAppointment(tx, a)
	})
	if err != nil {
		return Appointment{}, err
	}
	return a, nil
}

func (d *DiskStore) AddTicket(ctx context.Context, t Ticket) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n uint64
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTickets)
		var err error
		if n, err = b.NextSequence(); err != nil {
			return err
		}
		data, err := json.Marshal(ticketRecord(t))
		if err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(nil, n), data)
	})
	return int64(n), err
}
