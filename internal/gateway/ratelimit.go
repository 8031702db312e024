package gateway

import (
	"context"
	"hash/maphash"
	"strconv"
	"sync"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// Limiter says whether one more hop may go through for key (a phone
// number, a carrier) within its window.
type Limiter interface {
	Allow(ctx context.Context, key string) (bool, error)
}

// Limits are the gateway's hop limits: per phone number and per carrier,
// each a count per window. Zero counts switch a limit off.
type Limits struct {
	PerPhone   int
	PerCarrier int
	Window     time.Duration // default one minute
}

// MemoryLimiter counts hops per key in fixed windows, in this process.
// Memory stays bounded: counters of past windows are dropped as soon as a
// shard sees the next window.
type MemoryLimiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	seed   maphash.Seed
	shards [32]limitShard
}

type limitShard struct {
	mu     sync.Mutex
	window int64
	counts map[string]int
}

// NewMemoryLimiter allows max hops per key per window.
func NewMemoryLimiter(max int, window time.Duration) *MemoryLimiter {
	return &MemoryLimiter{Max: max, Window: window, seed: maphash.MakeSeed()}
}

// Allow implements Limiter.
func (m *MemoryLimiter) Allow(_ context.Context, key string) (bool, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	w := now().UnixNano() / int64(m.Window)
	sh := &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.window != w || sh.counts == nil {
		sh.window, sh.counts = w, make(map[string]int)
	}
	sh.counts[key]++
	return sh.counts[key] <= m.Max, nil
}

// RedisLimiter counts hops per key in fixed windows shared by every
// instance on one Redis: one round trip (a single-key script) per check.
type RedisLimiter struct {
	Client redis.UniversalClient
	Max    int
	Window time.Duration
	Prefix string // default "ventanilla:rate:"
	Now    func() time.Time
}

// countScript increments a window's counter and sets its expiry on first
// use, atomically.
var countScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// Allow implements Limiter.
func (r *RedisLimiter) Allow(ctx context.Context, key string) (bool, error) {
	prefix := r.Prefix
	if prefix == "" {
		prefix = "ventanilla:rate:"
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	w := now().UnixNano() / int64(r.Window)
	k := prefix + key + ":" + strconv.FormatInt(w, 10)
	n, err := countScript.Run(ctx, r.Client, []string{k}, r.Window.Milliseconds()).Int()
	if err != nil {
		return true, err // fail open: a Redis hiccup must not lock citizens out
	}
	return n <= r.Max, nil
}

// GuardedLimiter is a Limiter counting in a store that has a breaker (the
// Redis of shared limits): while the breaker is open the hop is allowed at
// once, as when Redis cannot count, instead of after Redis's timeouts.
type GuardedLimiter struct {
	Limiter
	Breaker *sessions.Breaker
}

// Allow implements Limiter.
func (g GuardedLimiter) Allow(ctx context.Context, key string) (bool, error) {
	ok := true
	err := g.Breaker.Do(ctx, func(ctx context.Context) error {
		var err error
		ok, err = g.Limiter.Allow(ctx, key)
		return err
	})
	if err != nil {
		return true, err // fail open, like the limiter itself
	}
	return ok, nil
}

// limited applies the hop limits. A limited hop touches no session.
func (g *Gateway) limited(ctx context.Context, in carrier.Inbound, info *hopInfo) (carrier.Reply, bool) {
	over := func(l Limiter, key string) bool {
		if l == nil || key == "" {
			return false
		}
		ok, err := l.Allow(ctx, key)
		if err != nil {
			g.logger().Warn("rate limit unavailable; hop allowed", "err", err)
		}
		return !ok
	}
	if !over(g.PhoneLimit, in.Phone) && !over(g.CarrierLimit, in.Carrier) {
		return carrier.Reply{}, false
	}
	info.set(func(i *hopInfo) { i.outcome = "limited" })
	locale := g.defaultLocale()
	if in.Phone != "" {
		var s conversation.State
		s.Phone = in.Phone
		g.loadLocale(ctx, &s)
		locale = s.Locale
	}
	return g.failure(locale, i18n.TooManyAttempts), true
}
