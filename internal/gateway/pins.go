package gateway

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"golang.org/x/crypto/scrypt"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// PINs keeps the PINs citizens set for level 2 flows, in the session
// store: hashed with scrypt (a slow key derivation, so a stolen store does
// not give PINs away), with a lockout after repeated failures.
type PINs struct {
	Store sessions.Store
	// MaxFailures wrong PINs in a row lock the PIN for Lockout (defaults
	// 5 and 15 minutes); a right PIN clears the count.
	MaxFailures int
	Lockout     time.Duration
	// Cost is scrypt's N (default 1<<15: about 50 ms on a server core).
	Cost int
}

var _ flows.PINs = PINs{}

// pinTTL keeps a PIN as long as a language choice is remembered.
const pinTTL = 400 * 24 * time.Hour

// ErrLocked: too many wrong PINs; wait for the lockout to pass.
var ErrLocked = flows.ErrPINLocked

func (p PINs) cost() int {
	if p.Cost > 0 {
		return p.Cost
	}
	return 1 << 15
}

func (p PINs) derive(pin string, salt []byte) ([]byte, error) {
	return scrypt.Key([]byte(pin), salt, p.cost(), 8, 1, 32)
}

// Has reports whether phone has set a PIN.
func (p PINs) Has(ctx context.Context, phone string) (bool, error) {
	_, err := p.Store.Get(ctx, keys.PIN(phone))
	if errors.Is(err, sessions.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Set stores a new PIN for phone.
func (p PINs) Set(ctx context.Context, phone, pin string) error {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	key, err := p.derive(pin, salt)
	if err != nil {
		return err
	}
	rec := append([]byte(strconv.Itoa(p.cost())+":"), salt...)
	rec = append(rec, key...)
	return p.Store.Set(ctx, keys.PIN(phone), rec, pinTTL)
}

// Check compares pin with the one phone set. A wrong PIN counts towards
// the lockout; while locked, Check answers ErrLocked without comparing.
func (p PINs) Check(ctx context.Context, phone, pin string) (bool, error) {
	max, lockout := p.MaxFailures, p.Lockout
	if max <= 0 {
		max = 5
	}
	if lockout <= 0 {
		lockout = 15 * time.Minute
	}
	fails := 0
	if rec, err := p.Store.Get(ctx, keys.PINFail(phone)); err == nil {
		fails, _ = strconv.Atoi(string(rec.Data))
	}
	if fails >= max {
		return false, ErrLocked
	}
	rec, err := p.Store.Get(ctx, keys.PIN(phone))
	if err != nil {
		return false, err
	}
	var cost int
	var rest []byte
	for i, b := range rec.Data {
		if b == ':' {
			cost, _ = strconv.Atoi(string(rec.Data[:i]))
			rest = rec.Data[i+1:]
			break
		}
	}
	if cost <= 0 || len(rest) != 16+32 {
		return false, fmt.Errorf("pin record unreadable")
	}
	key, err := PINs{Cost: cost}.derive(pin, rest[:16])
	if err != nil {
		return false, err
	}
	if subtle.ConstantTimeCompare(key, rest[16:]) == 1 {
		_ = p.Store.Delete(ctx, keys.PINFail(phone))
		return true, nil
	}
	fails++
	if err := p.Store.Set(ctx, keys.PINFail(phone), []byte(strconv.Itoa(fails)), lockout); err != nil {
		return false, err
	}
	if fails >= max {
		return false, ErrLocked
	}
	return false, nil
}
