package sessions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// rekeyBatch is how many keys SCAN asks for at a time, and so how many
// records one pipelined move handles.
const rekeyBatch = 1000

// delIfScript deletes KEYS[1] only if it still holds ARGV[1]: a record
// written again while it was being moved is left for the next pass.
var delIfScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

// Rekey moves records to new keys: every store key for which rename
// answers a new key and true is moved there, with its value and its
// remaining TTL, by a scan of the whole key space under the prefix (of
// every master, on a Cluster). It is for upgrades that change how keys
// are named, and is safe to run again and from several instances at once:
// a new key that already holds a record keeps it (it is newer), and an
// old key written again during the move stays for the next run. It
// returns how many records it moved.
func (r *Redis) Rekey(ctx context.Context, rename func(key string) (string, bool)) (int, error) {
	var moved atomic.Int64
	scan := func(ctx context.Context, node redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, globEscape(r.prefix)+"*", rekeyBatch).Result()
			if err != nil {
				return fmt.Errorf("sessions: redis scan: %w", err)
			}
			var from, to []string
			for _, k := range keys {
				if nk, ok := rename(strings.TrimPrefix(k, r.prefix)); ok {
					from, to = append(from, k), append(to, r.key(nk))
				}
			}
			n, err := r.move(ctx, from, to)
			moved.Add(int64(n))
			if err != nil {
				return err
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	var err error
	if c, ok := r.client.(*redis.ClusterClient); ok {
		err = c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return scan(ctx, n) })
	} else {
		err = scan(ctx, r.client)
	}
	return int(moved.Load()), err
}

// move copies each from[i] to to[i] unless to[i] exists, then deletes
// from[i] if unchanged: two pipelines, whatever the count.
func (r *Redis) move(ctx context.Context, from, to []string) (int, error) {
	if len(from) == 0 {
		return 0, nil
	}
	pipe := r.client.Pipeline()
	gets := make([]*redis.StringCmd, len(from))
	ttls := make([]*redis.DurationCmd, len(from))
	for i, k := range from {
		gets[i], ttls[i] = pipe.Get(ctx, k), pipe.PTTL(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("sessions: redis rekey read: %w", err)
	}
	pipe = r.client.Pipeline()
	moved := 0
	for i := range from {
		v, err := gets[i].Result()
		if err != nil {
			continue // gone since the scan
		}
		ttl := ttls[i].Val()
		if ttl < 0 {
			ttl = 0 // no expiry (-1), or gone (-2): SET keeps none
		}
		pipe.SetNX(ctx, to[i], v, ttl)
		delIfScript.Eval(ctx, pipe, []string{from[i]}, v) // EVALSHA could not fall back to EVAL inside a pipeline
		moved++
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("sessions: redis rekey write: %w", err)
	}
	return moved, nil
}

// globEscape escapes SCAN's pattern characters.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
