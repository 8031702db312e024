package main

import (
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// thirdStore is a store of another type kept on Redis: what the gateway
// builds on it follows from its capabilities, not from its type.
type thirdStore struct{ *sessions.Redis }

// Two instances, each with its own store on one Redis, share the hop
// limits with --shared-limits: the second sees what the first counted.
func TestSharedLimitsFollowTheStoreCapability(t *testing.T) {
	client := redistest.Start(t)
	c := &config{LimitPhone: 1, LimitWindow: time.Minute, SharedLimits: true}
	first, _ := c.limiters(thirdStore{sessions.NewRedis(client, sessions.RedisOptions{})}, nil)
	second, _ := c.limiters(thirdStore{sessions.NewRedis(client, sessions.RedisOptions{})}, nil)
	if ok, err := first.Allow(t.Context(), "+593991234567"); err != nil || !ok {
		t.Fatalf("first hop: allowed %v, %v", ok, err)
	}
	if ok, err := second.Allow(t.Context(), "+593991234567"); err != nil || ok {
		t.Fatalf("second hop, on the other instance: allowed %v, %v; want refused (the limit is shared)", ok, err)
	}
}
