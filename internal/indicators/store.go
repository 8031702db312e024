package indicators

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store keeps the counts. Add adds a batch of increments; Read returns
// every count of the days given. Both are called off the hop.
type Store interface {
	Add(ctx context.Context, batch map[Cell]int64) error
	Read(ctx context.Context, days []string) (map[Cell]int64, error)
}

// Memory keeps the counts in the process: they are lost with it. It is
// the store of a gateway whose sessions are in memory too, where there is
// nothing durable to keep them in.
type Memory struct {
	mu   sync.Mutex
	days map[string]map[Cell]int64
}

var (
	_ Store = (*Memory)(nil)
	_ Store = (*Redis)(nil)
)

// NewMemory returns an empty memory store.
func NewMemory() *Memory { return &Memory{days: map[string]map[Cell]int64{}} }

// Add implements Store.
func (m *Memory) Add(_ context.Context, batch map[Cell]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for c, n := range batch {
		c, _ = parseField(c.Day, c.field()) // as Redis would give it back
		day := m.days[c.Day]
		if day == nil {
			day = map[Cell]int64{}
			m.days[c.Day] = day
		}
		day[c] += n
	}
	return nil
}

// Read implements Store.
func (m *Memory) Read(_ context.Context, days []string) (map[Cell]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[Cell]int64{}
	for _, d := range days {
		for c, n := range m.days[d] {
			out[c] = n
		}
	}
	return out, nil
}

// Redis keeps each day's counts in one hash, KeyPrefix + day, one field
// per cell (see Cell.field): an increment is one HINCRBY, a day is read
// with one HGETALL, and a day's hash holds as many fields as there are
// cells that day — it grows with the variety of flows, channels and
// languages, not with the number of conversations.
type Redis struct {
	client redis.UniversalClient
	// Retention is how long a day's counts are kept after its last
	// increment; 0 keeps them.
	retention time.Duration
}

// KeyPrefix starts the key of every day's hash.
const KeyPrefix = "ventanilla:indicators:"

// NewRedis returns a store on client; retention 0 keeps counts forever.
func NewRedis(client redis.UniversalClient, retention time.Duration) *Redis {
	return &Redis{client: client, retention: retention}
}

// Add implements Store: per day, one MULTI of HINCRBY (and an EXPIRE
// when counts have a retention), so that a day's increments land all
// or none. Days are separate keys, which a Redis Cluster may keep on
// separate nodes, so each is a transaction of its own.
func (r *Redis) Add(ctx context.Context, batch map[Cell]int64) error {
	byDay := map[string][]Cell{}
	for c := range batch {
		byDay[c.Day] = append(byDay[c.Day], c)
	}
	for day, cells := range byDay {
		key := KeyPrefix + day
		_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range cells {
				p.HIncrBy(ctx, key, c.field(), batch[c])
			}
			if r.retention > 0 {
				p.Expire(ctx, key, r.retention)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("indicators: adding the counts of %s: %w", day, err)
		}
		for _, c := range cells {
			delete(batch, c) // stored: not to be added again on a retry
		}
	}
	return nil
}

// Read implements Store: one pipeline of HGETALL.
func (r *Redis) Read(ctx context.Context, days []string) (map[Cell]int64, error) {
	cmds := make([]*redis.MapStringStringCmd, len(days))
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, d := range days {
			cmds[i] = p.HGetAll(ctx, KeyPrefix+d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicators: reading counts: %w", err)
	}
	out := map[Cell]int64{}
	for i, cmd := range cmds {
		for f, v := range cmd.Val() {
			c, ok := parseField(days[i], f)
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			out[c] += n
		}
	}
	return out, nil
}
