package reminders

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keeps reminders in Redis, all under one hash tag so that a
// Cluster keeps them on one node and the scripts may touch them together:
//
//	{ventanilla:reminders}:due        sorted set: id → due (or claimed-until) time, unix ms
//	{ventanilla:reminders}:r:<id>     the reminder, JSON
//	{ventanilla:reminders}:key:<key>  set of the ids of a booking
//
// A sorted set and not a stream: reminders wait days and must be found by
// time, cancelled and moved before then; a stream delivers in the order
// written and cannot drop or move an entry in the middle. The claim moves
// a due reminder's score past the visibility in one script, so two
// instances never claim it at once, and one that dies leaves it to the
// next claim when the visibility runs out.
type Redis struct {
	c redis.UniversalClient
}

var _ Store = (*Redis)(nil)

// NewRedis returns the store on c.
func NewRedis(c redis.UniversalClient) *Redis { return &Redis{c: c} }

const (
	prefix = "{ventanilla:reminders}:"
	dueKey = prefix + "due"
)

func bodyKey(id string) string { return prefix + "r:" + id }
func setKey(key string) string { return prefix + "key:" + key }
func ms(t time.Time) float64   { return float64(t.UnixMilli()) }
func keep(r Reminder) time.Duration {
	// A reminder's record outlives its event by a day at most: one never
	// claimed (no instance running) is not kept for ever.
	return time.Until(r.Event.Add(24*time.Hour)) + time.Hour
}

// Schedule implements Store.
func (s *Redis) Schedule(ctx context.Context, rs ...Reminder) error {
	for _, r := range rs {
		if r.ID == "" || r.Key == "" {
			return ErrEmptyKey
		}
	}
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range rs {
			body, err := json.Marshal(r)
			if err != nil {
				return err
			}
			ttl := max(keep(r), time.Hour)
			p.Set(ctx, bodyKey(r.ID), body, ttl)
			p.SAdd(ctx, setKey(r.Key), r.ID)
			p.Expire(ctx, setKey(r.Key), ttl)
			p.ZAdd(ctx, dueKey, redis.Z{Score: ms(r.Due), Member: r.ID})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reminders: scheduling: %w", err)
	}
	return nil
}

// claimScript moves up to ARGV[3] ids due at ARGV[1] to ARGV[1]+ARGV[2]
// and returns them.
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local till = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], till, id)
end
return ids
`)

// Claim implements Store.
func (s *Redis) Claim(ctx context.Context, now time.Time, visibility time.Duration, limit int) ([]Reminder, error) {
	ids, err := claimScript.Run(ctx, s.c, []string{dueKey}, now.UnixMilli(), visibility.Milliseconds(), limit).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("reminders: claiming: %w", err)
	}
	out := make([]Reminder, 0, len(ids))
	for _, id := range ids {
		body, err := s.c.Get(ctx, bodyKey(id)).Bytes()
		if err == redis.Nil {
			// Its record expired or was cancelled under the claim.
			s.c.ZRem(ctx, dueKey, id)
			continue
		}
		if err != nil {
			return out, fmt.Errorf("reminders: reading %s: %w", id, err)
		}
		var r Reminder
		if err := json.Unmarshal(body, &r); err != nil {
			s.c.ZRem(ctx, dueKey, id)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// doneScript forgets a reminder: its place in the schedule, its record
// and its place in its booking's set.
var doneScript = redis.NewScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
if ARGV[2] ~= '' then redis.call('SREM', KEYS[3], ARGV[1]) end
return 1
`)

// Done implements Store.
func (s *Redis) Done(ctx context.Context, id string) error {
	body, _ := s.c.Get(ctx, bodyKey(id)).Bytes()
	var r Reminder
	_ = json.Unmarshal(body, &r)
	if err := doneScript.Run(ctx, s.c, []string{dueKey, bodyKey(id), setKey(r.Key)}, id, r.Key).Err(); err != nil {
		return fmt.Errorf("reminders: forgetting %s: %w", id, err)
	}
	return nil
}

// cancelScript forgets every reminder of a booking.
var cancelScript = redis.NewScript(`
local ids = redis.call('SMEMBERS', KEYS[2])
local n = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', KEYS[1], id) == 1 then n = n + 1 end
  redis.call('DEL', ARGV[1] .. id)
end
redis.call('DEL', KEYS[2])
return n
`)

// Cancel implements Store.
func (s *Redis) Cancel(ctx context.Context, key string) (int, error) {
	n, err := cancelScript.Run(ctx, s.c, []string{dueKey, setKey(key)}, prefix+"r:").Int()
	if err != nil {
		return 0, fmt.Errorf("reminders: cancelling %s: %w", key, err)
	}
	return n, nil
}

// Get implements Store.
func (s *Redis) Get(ctx context.Context, key string) ([]Reminder, error) {
	ids, err := s.c.SMembers(ctx, setKey(key)).Result()
	if err != nil {
		return nil, fmt.Errorf("reminders: reading %s: %w", key, err)
	}
	var out []Reminder
	for _, id := range ids {
		body, err := s.c.Get(ctx, bodyKey(id)).Bytes()
		if err != nil {
			continue
		}
		var r Reminder
		if json.Unmarshal(body, &r) == nil {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out, nil
}
