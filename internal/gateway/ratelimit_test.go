package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

func testLimiter(t *testing.T, l gateway.Limiter, advance func()) {
	ctx := context.Background()
	for i := range 3 {
		if ok, err := l.Allow(ctx, "+593991234567"); !ok || err != nil {
			t.Fatalf("hop %d refused: %v", i+1, err)
		}
	}
	if ok, _ := l.Allow(ctx, "+593991234567"); ok {
		t.Error("fourth hop in the window allowed")
	}
	if ok, _ := l.Allow(ctx, "+593990000000"); !ok {
		t.Error("another number limited")
	}
	advance()
	if ok, _ := l.Allow(ctx, "+593991234567"); !ok {
		t.Error("next window still limited")
	}
}

func TestMemoryLimiter(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_800_000_000, 0))
	l := gateway.NewMemoryLimiter(3, time.Minute)
	l.Now = clock.Now
	testLimiter(t, l, func() { clock.Advance(time.Minute) })
}

func TestRedisLimiter(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_800_000_000, 0))
	l := &gateway.RedisLimiter{Client: redistest.Start(t), Max: 3, Window: time.Minute, Now: clock.Now}
	testLimiter(t, l, func() { clock.Advance(time.Minute) })
}

// A citizen over the limit is told so in their language, and the
// conversation is not touched.
func TestHopLimitPerPhone(t *testing.T) {
	g := newGateway(t, sessions.NewMemory(sessions.MemoryOptions{}))
	g.PhoneLimit = gateway.NewMemoryLimiter(2, time.Minute)
	hop(t, g, at("a", ""))
	hop(t, g, at("a", "1"))
	r := hop(t, g, at("a", "1*1"))
	if !r.End || r.Text != "Demasiados intentos. Vuelva a marcar más tarde." {
		t.Errorf("over the limit: %+v", r)
	}
}
