package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// A number is asked to rate a flow once per period, whichever instance
// asks: the record is shared in the store.
func TestRatingsAskOncePerPeriod(t *testing.T) {
	for name, store := range map[string]sessions.Store{
		"memory": memoryStore(t),
		"redis":  sessions.NewRedis(redistest.Start(t), sessions.RedisOptions{}),
	} {
		t.Run(name, func(t *testing.T) {
			one, two := gateway.Ratings{Store: store}, gateway.Ratings{Store: store} // two instances
			ctx := context.Background()
			for i, tc := range []struct {
				r     gateway.Ratings
				phone string
				flow  string
				want  bool
			}{
				{one, "+593991234567", "turnos", true},
				{two, "+593991234567", "turnos", false},
				{two, "+593991234567", "buzon", true},
				{one, "+593990000000", "turnos", true},
			} {
				got, err := tc.r.Ask(ctx, tc.phone, tc.flow, time.Hour)
				if err != nil || got != tc.want {
					t.Errorf("ask %d (%s, %s) = %v, %v; want %v", i, tc.phone, tc.flow, got, err, tc.want)
				}
			}
		})
	}
}

func memoryStore(t *testing.T) *sessions.Memory {
	m := sessions.NewMemory(sessions.MemoryOptions{})
	t.Cleanup(func() { _ = m.Close() })
	return m
}
