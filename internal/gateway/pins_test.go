package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// PINs are kept hashed with scrypt and lock after repeated failures; a
// right PIN clears the count.
func TestPINs(t *testing.T) {
	store := sessions.NewMemory(sessions.MemoryOptions{})
	p := gateway.PINs{Store: store, MaxFailures: 3, Cost: 1 << 10}
	ctx := context.Background()
	const phone = "+593991234567"
	if has, _ := p.Has(ctx, phone); has {
		t.Fatal("a PIN before any was set")
	}
	if err := p.Set(ctx, phone, "4821"); err != nil {
		t.Fatal(err)
	}
	rec, _ := store.Get(ctx, "pin:"+phone)
	if bytes.Contains(rec.Data, []byte("4821")) {
		t.Error("the PIN is stored as it was typed")
	}
	if ok, err := p.Check(ctx, phone, "4821"); !ok || err != nil {
		t.Errorf("right PIN: %v %v", ok, err)
	}
	for i := range 2 {
		if ok, err := p.Check(ctx, phone, "0000"); ok || err != nil {
			t.Errorf("wrong PIN %d: %v %v", i+1, ok, err)
		}
	}
	if ok, _ := p.Check(ctx, phone, "4821"); !ok {
		t.Error("a right PIN after two wrong ones")
	}
	for range 3 {
		p.Check(ctx, phone, "0000")
	}
	if ok, err := p.Check(ctx, phone, "4821"); ok || !errors.Is(err, flows.ErrPINLocked) {
		t.Errorf("after three wrong PINs the right one still works: %v %v", ok, err)
	}
}
