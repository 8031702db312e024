package callbacks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keeps deliveries in Redis, under one hash tag so that a Cluster
// keeps them on one node and a script may touch them together:
//
//	{ventanilla:callbacks}:due      sorted set: id → due (or leased-until) time, unix ms
//	{ventanilla:callbacks}:d:<id>   the delivery, JSON, kept for the retention
//
// A sorted set, as reminders are kept, and not the outbound queue's
// streams: a delivery waits minutes to hours between attempts and is
// found by time. A claim moves a due delivery's score to the end of its
// lease in one script, so two instances never claim it at once; the
// score is also the claim's fencing token, so an instance that outlived
// its lease cannot overwrite the outcome of the one that took over. One
// that dies leaves the delivery to the next claim when the lease runs
// out.
type Redis struct {
	c redis.UniversalClient
}

var _ Store = (*Redis)(nil)

// NewRedis returns the store on c.
func NewRedis(c redis.UniversalClient) *Redis { return &Redis{c: c} }

const (
	redisPrefix = "{ventanilla:callbacks}:"
	redisDue    = redisPrefix + "due"
)

func redisKey(id string) string { return redisPrefix + "d:" + id }

var addScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1]) end
return 1
`)

// Add implements Store.
func (s *Redis) Add(ctx context.Context, d Delivery, retain time.Duration) (bool, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return false, err
	}
	due := ""
	if d.State == StatePending {
		due = fmt.Sprint(d.Next.UnixMilli())
	}
	n, err := addScript.Run(ctx, s.c, []string{redisDue, redisKey(d.ID)}, d.ID, body, retain.Milliseconds(), due).Int()
	if err != nil {
		return false, fmt.Errorf("callbacks: adding a delivery: %w", err)
	}
	return n == 1, nil
}

// claimScript moves up to ARGV[3] ids due at ARGV[1] to ARGV[2] and
// returns each with its record; an id whose record has expired leaves
// the schedule.
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local body = redis.call('GET', ARGV[4] .. id)
  if body then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, body)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`)

// Claim implements Store.
func (s *Redis) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Claim, error) {
	until := now.Add(lease)
	bodies, err := claimScript.Run(ctx, s.c, []string{redisDue}, now.UnixMilli(), until.UnixMilli(), limit, redisPrefix+"d:").StringSlice()
	if err != nil {
		return nil, fmt.Errorf("callbacks: claiming: %w", err)
	}
	out := make([]Claim, 0, len(bodies))
	for _, b := range bodies {
		var d Delivery
		if err := json.Unmarshal([]byte(b), &d); err != nil {
			continue // written by nothing this package makes; it expires
		}
		out = append(out, Claim{Delivery: d, Until: time.UnixMilli(until.UnixMilli())})
	}
	return out, nil
}

var updateScript = redis.NewScript(`
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
`)

// Update implements Store.
func (s *Redis) Update(ctx context.Context, c Claim, d Delivery, retain time.Duration) error {
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	due := ""
	if d.State == StatePending {
		due = fmt.Sprint(d.Next.UnixMilli())
	}
	n, err := updateScript.Run(ctx, s.c, []string{redisDue, redisKey(c.ID)}, c.ID, c.Until.UnixMilli(), body, retain.Milliseconds(), due).Int()
	if err != nil {
		return fmt.Errorf("callbacks: recording an attempt: %w", err)
	}
	if n == 0 {
		return errLost
	}
	return nil
}

// Get implements Store.
func (s *Redis) Get(ctx context.Context, id string) (Delivery, error) {
	b, err := s.c.Get(ctx, redisKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Delivery{}, ErrNotFound
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("callbacks: reading a delivery: %w", err)
	}
	var d Delivery
	if err := json.Unmarshal(b, &d); err != nil {
		return Delivery{}, fmt.Errorf("callbacks: delivery unreadable: %w", err)
	}
	return d, nil
}
