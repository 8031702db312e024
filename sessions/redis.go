package sessions

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

const defaultPrefix = "ventanilla:"

// RedisOptions configures NewRedis. Zero values select the defaults.
type RedisOptions struct {
	// Prefix goes in front of every key so that the store can share a Redis
	// with other data. Default "ventanilla:".
	Prefix string
	// DefaultTTL applies to writes whose ttl is zero. Default 5 minutes.
	DefaultTTL time.Duration
	// Tag, when set, rewrites the hash tag of every key — the part
	// between "{" and "}", which names the citizen a record belongs to
	// (keys.Profile) — into what it returns: a keyed digest of
	// the number, so that Redis's key space names no one. Keys without a
	// tag are stored as they are.
	Tag func(string) string
}

// Redis is a Store on Redis, shared by every instance of the gateway. It
// works on a single node, behind Sentinel and on Cluster: every write
// touches exactly one key, and GetMulti reads one slot per command.
//
// Each value is the revision as 8 bytes big-endian followed by the data, so
// revision and data are always read and written together in one command.
type Redis struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
	tag    func(string) string
}

var (
	_ Store       = (*Redis)(nil)
	_ MultiGetter = (*Redis)(nil)
	_ Swapper     = (*Redis)(nil)
	_ RedisBacked = (*Redis)(nil)
)

// NewRedis returns a store that uses client. The caller keeps ownership of
// client and closes it; Close on the store does not.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	r := &Redis{client: client, prefix: opts.Prefix, ttl: opts.DefaultTTL, tag: opts.Tag}
	if r.prefix == "" {
		r.prefix = defaultPrefix
	}
	if r.ttl <= 0 {
		r.ttl = defaultTTL
	}
	return r
}

// key is the Redis key of a store key: the prefix, then the key with its
// hash tag rewritten by Tag.
func (r *Redis) key(k string) string {
	if r.tag != nil {
		if i := strings.IndexByte(k, '{'); i >= 0 {
			if j := strings.IndexByte(k[i+1:], '}'); j > 0 {
				return r.prefix + k[:i+1] + r.tag(k[i+1:i+1+j]) + k[i+1+j:]
			}
		}
	}
	return r.prefix + k
}

// Name is what Tag makes of s: how a citizen is named in Redis keys
// outside the store (hop limits); s itself without Tag.
func (r *Redis) Name(s string) string {
	if r.tag == nil {
		return s
	}
	return r.tag(s)
}

// The scripts treat revisions as opaque 8-byte strings and never as Lua
// numbers, which are doubles, and they avoid the struct library, which not
// every Redis-compatible server ships.

// putScript writes only if the stored revision equals ARGV[1] (all zero
// bytes: the key must not exist). The caller computes the new revision and
// sends the whole new value, so the script only compares and writes.
//
//	KEYS[1] key    ARGV[1] expected revision    ARGV[2] new value    ARGV[3] ttl ms
//
// Returns 1 when written, 0 on conflict.
var putScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local rev = cur and string.sub(cur, 1, 8) or '\0\0\0\0\0\0\0\0'
if rev ~= ARGV[1] then
	return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// swapScript is putScript that, on a conflict, answers with what is stored,
// so that the caller can run again on it without another round trip. It
// reads only the 8 revision bytes to compare (GETRANGE), not the whole
// record into Lua.
//
//	KEYS[1] key    ARGV[1] expected revision    ARGV[2] new value    ARGV[3] ttl ms
//
// Returns 1 when written; on conflict the stored value, or 0 when there is none.
var swapScript = redis.NewScript(swapCompare + swapSet)

// swapCompare answers a write to KEYS[1] not expected at its revision
// ARGV[1] with the value stored, or 0 when there is none; swapSet writes.
const (
	swapCompare = `local rev = redis.call('GETRANGE', KEYS[1], 0, 7)
if rev == '' then
	rev = '\0\0\0\0\0\0\0\0'
end
if rev ~= ARGV[1] then
	local cur = redis.call('GET', KEYS[1])
	if cur then
		return cur
	end
	return 0
end
`
	swapSet = `
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`
)

// swapWatchedScript is swapScript that also requires the record under
// KEYS[2], which the caller read with KEYS[1], to be still at revision
// ARGV[4]. Both keys name one citizen (the same hash tag), so they are in
// one slot of a Redis Cluster.
//
//	KEYS[1] key    KEYS[2] watched key
//	ARGV[1] expected revision    ARGV[2] new value    ARGV[3] ttl ms
//	ARGV[4] expected revision of the watched key
//
// Returns 1 when written; on a conflict of KEYS[1] the value stored, or 0
// when there is none; -1 when KEYS[1] is as expected and KEYS[2] is not.
var swapWatchedScript = redis.NewScript(swapCompare + `
local watched = redis.call('GETRANGE', KEYS[2], 0, 7)
if watched == '' then
	watched = '\0\0\0\0\0\0\0\0'
end
if watched ~= ARGV[4] then
	return -1
end
` + swapSet)

// setScript writes unconditionally with the stored revision plus one (1 if
// there is none), incremented byte by byte from the right.
//
//	KEYS[1] key    ARGV[1] data    ARGV[2] ttl ms
var setScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local rev = {0, 0, 0, 0, 0, 0, 0, 0}
if cur and #cur >= 8 then
	rev = {string.byte(cur, 1, 8)}
end
for i = 8, 1, -1 do
	if rev[i] < 255 then
		rev[i] = rev[i] + 1
		break
	end
	rev[i] = 0
end
redis.call('SET', KEYS[1], string.char(unpack(rev)) .. ARGV[1], 'PX', ARGV[2])
return 1
`)

// Get reads the record under key with one GET.
func (r *Redis) Get(ctx context.Context, key string) (Record, error) {
	b, err := r.client.Get(ctx, r.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("sessions: redis get: %w", err)
	}
	if len(b) < 8 {
		return Record{}, fmt.Errorf("%w: redis value of %d bytes has no 8-byte revision", ErrMalformed, len(b))
	}
	return Record{Data: b[8:], Rev: binary.BigEndian.Uint64(b)}, nil
}

// Put compares and writes in one round trip (EVALSHA, or EVAL once after the
// server lost its script cache).
func (r *Redis) Put(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration) (uint64, error) {
	ttl, err := ttlOrDefault(ttl, r.ttl)
	if err != nil {
		return 0, err
	}
	expected := binary.BigEndian.AppendUint64(make([]byte, 0, 8), rev)
	value := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(data)), rev+1)
	value = append(value, data...)
	written, err := putScript.Run(ctx, r.client, []string{r.key(key)}, expected, value, milliseconds(ttl)).Int64()
	if err != nil {
		return 0, fmt.Errorf("sessions: redis put: %w", err)
	}
	if written == 0 {
		return 0, ErrConflict
	}
	return rev + 1, nil
}

// GetMulti reads keys with one MGET. On a Redis Cluster, where one
// command may only touch one slot, it sends an MGET per slot, pipelined:
// still one round trip per node, and one in all for keys sharing a hash
// tag — the keys of one citizen (see keys.Profile).
func (r *Redis) GetMulti(ctx context.Context, keys ...string) ([]Record, error) {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.key(k)
	}
	vals, err := r.mget(ctx, full)
	if err != nil {
		return nil, fmt.Errorf("sessions: redis mget: %w", err)
	}
	recs := make([]Record, len(keys))
	for i, v := range vals {
		b, ok := v.(string)
		if !ok {
			continue // nil: no such key
		}
		if len(b) < 8 {
			return nil, fmt.Errorf("%w: redis value of %d bytes has no 8-byte revision", ErrMalformed, len(b))
		}
		recs[i] = Record{Data: []byte(b[8:]), Rev: binary.BigEndian.Uint64([]byte(b[:8]))}
	}
	return recs, nil
}

func (r *Redis) mget(ctx context.Context, keys []string) ([]any, error) {
	if _, cluster := r.client.(*redis.ClusterClient); !cluster || oneSlot(keys) {
		return r.client.MGet(ctx, keys...).Result()
	}
	bySlot := make(map[uint16][]int)
	for i, k := range keys {
		bySlot[slot(k)] = append(bySlot[slot(k)], i)
	}
	pipe := r.client.Pipeline()
	cmds := make([]*redis.SliceCmd, 0, len(bySlot))
	order := make([][]int, 0, len(bySlot))
	for _, idx := range bySlot {
		group := make([]string, len(idx))
		for j, i := range idx {
			group[j] = keys[i]
		}
		cmds = append(cmds, pipe.MGet(ctx, group...))
		order = append(order, idx)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	vals := make([]any, len(keys))
	for g, cmd := range cmds {
		for j, v := range cmd.Val() {
			vals[order[g][j]] = v
		}
	}
	return vals, nil
}

// CompareAndSwap is Put that, on ErrConflict, also returns the record
// stored now (Rev 0: none), read in the same round trip.
func (r *Redis) CompareAndSwap(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration) (uint64, Record, error) {
	ttl, err := ttlOrDefault(ttl, r.ttl)
	if err != nil {
		return 0, Record{}, err
	}
	expected := binary.BigEndian.AppendUint64(make([]byte, 0, 8), rev)
	value := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(data)), rev+1)
	value = append(value, data...)
	res, err := swapScript.Run(ctx, r.client, []string{r.key(key)}, expected, value, milliseconds(ttl)).Result()
	if err != nil {
		return 0, Record{}, fmt.Errorf("sessions: redis put: %w", err)
	}
	return swapped(res, rev)
}

// swapped reads the swap scripts' answer to a write expected at rev: 1
// when it took place; else the record stored now, or a number when there
// is none or the watched record moved.
func swapped(res any, rev uint64) (uint64, Record, error) {
	switch v := res.(type) {
	case int64:
		if v == 1 {
			return rev + 1, Record{}, nil
		}
		return 0, Record{}, ErrConflict
	case string:
		if len(v) < 8 {
			return 0, Record{}, fmt.Errorf("%w: redis value of %d bytes has no 8-byte revision", ErrMalformed, len(v))
		}
		return 0, Record{Data: []byte(v[8:]), Rev: binary.BigEndian.Uint64([]byte(v[:8]))}, ErrConflict
	}
	return 0, Record{}, fmt.Errorf("sessions: redis put: unexpected answer %T", res)
}

// CompareAndSwapWatched is CompareAndSwap that also requires watch to
// be still at revision watchRev (0: none), in the same round trip. When
// key is as expected and watch is not, it returns ErrConflict with the
// zero Record.
func (r *Redis) CompareAndSwapWatched(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration, watch string, watchRev uint64) (uint64, Record, error) {
	ttl, err := ttlOrDefault(ttl, r.ttl)
	if err != nil {
		return 0, Record{}, err
	}
	expected := binary.BigEndian.AppendUint64(make([]byte, 0, 8), rev)
	value := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(data)), rev+1)
	value = append(value, data...)
	watched := binary.BigEndian.AppendUint64(make([]byte, 0, 8), watchRev)
	res, err := swapWatchedScript.Run(ctx, r.client, []string{r.key(key), r.key(watch)}, expected, value, milliseconds(ttl), watched).Result()
	if err != nil {
		return 0, Record{}, fmt.Errorf("sessions: redis put: %w", err)
	}
	return swapped(res, rev)
}

// Revisions reads only the revisions stored under keys (0: none), with a
// GETRANGE each, pipelined: one round trip, on a Redis Cluster too when
// the keys share a hash tag.
func (r *Redis) Revisions(ctx context.Context, keys ...string) ([]uint64, error) {
	pipe := r.client.Pipeline()
	cmds := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.GetRange(ctx, r.key(k), 0, 7)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("sessions: redis getrange: %w", err)
	}
	revs := make([]uint64, len(keys))
	for i, c := range cmds {
		b, _ := c.Bytes()
		switch len(b) {
		case 0:
		case 8:
			revs[i] = binary.BigEndian.Uint64(b)
		default:
			return nil, fmt.Errorf("%w: redis value of %d bytes has no 8-byte revision", ErrMalformed, len(b))
		}
	}
	return revs, nil
}

// Revision reads only the revision stored under key (0: none), with one
// GETRANGE of its first 8 bytes.
func (r *Redis) Revision(ctx context.Context, key string) (uint64, error) {
	b, err := r.client.GetRange(ctx, r.key(key), 0, 7).Bytes()
	if err != nil {
		return 0, fmt.Errorf("sessions: redis getrange: %w", err)
	}
	switch len(b) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(b), nil
	}
	return 0, fmt.Errorf("%w: redis value of %d bytes has no 8-byte revision", ErrMalformed, len(b))
}

// Set writes in one round trip whatever the stored revision.
func (r *Redis) Set(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	ttl, err := ttlOrDefault(ttl, r.ttl)
	if err != nil {
		return err
	}
	if err := setScript.Run(ctx, r.client, []string{r.key(key)}, data, milliseconds(ttl)).Err(); err != nil {
		return fmt.Errorf("sessions: redis set: %w", err)
	}
	return nil
}

// Delete removes key with one DEL.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.key(key)).Err(); err != nil {
		return fmt.Errorf("sessions: redis delete: %w", err)
	}
	return nil
}

// Ping sends PING.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("sessions: redis ping: %w", err)
	}
	return nil
}

// Client returns the Redis client the store uses, for what shares its
// server (hop limits, the outbound queue).
func (r *Redis) Client() redis.UniversalClient { return r.client }

// DefaultTTL is the TTL of writes whose ttl is zero (RedisOptions.DefaultTTL).
func (r *Redis) DefaultTTL() time.Duration { return r.ttl }

// Close does nothing: the client belongs to the caller, who may share it
// with other users and closes it after them.
func (r *Redis) Close() error {
	return nil
}

// milliseconds rounds up, because PX refuses 0 and a sub-millisecond ttl
// must still expire rather than fail.
func milliseconds(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
