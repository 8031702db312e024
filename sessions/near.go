package sessions

import (
	"bytes"
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"time"
)

const (
	defaultNearRecords = 50_000
	nearShards         = 64
)

// NearOptions configures NewNear. Zero values select the defaults.
type NearOptions struct {
	// Records caps the records kept in this process; past it an arbitrary
	// one is forgotten (it is still in Redis). Default 50,000, about 70 MB
	// of typical sessions.
	Records int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Near is a Store in front of Redis for conversations: it keeps, in this
// process, the last revision of every record it wrote or deleted, so that
// the next hop of a conversation this instance served reads nothing from
// Redis and the compare-and-set of its write is the hop's one round trip.
//
// The copy may be stale: another instance may have served the
// conversation since. Nothing is lost when it is: the write conflicts,
// Redis answers the conflict with the record it holds (in the same round
// trip), Near keeps that one, and the hop runs again on it. Records it
// answers from its copy carry Local, so that a hop which is about to do
// something a re-run cannot take back (a back-end call, an SMS) can
// Verify first. A Set forgets the copy, so keep Near for records written
// with Put; profiles and other last-writer-wins data belong in the Redis
// store itself.
type Near struct {
	redis  Swapper
	shards [nearShards]nearShard
	seed   maphash.Seed
	per    int
	now    func() time.Time
}

type nearShard struct {
	mu sync.Mutex
	m  map[string]nearEntry
	_  [64 - 16]byte
}

// nearEntry.data is never modified once kept; rev 0 means "not in Redis".
// watch, when set, is the key whose record was watched (Watcher) when
// this one was written, and watched that record then.
type nearEntry struct {
	data    []byte
	rev     uint64
	expires time.Time
	watch   string
	watched Record
}

var (
	_ Store    = (*Near)(nil)
	_ Verifier = (*Near)(nil)
	_ Watcher  = (*Near)(nil)
)

// NewNear returns a Near in front of r, a store shared by every instance
// (Redis, or any Swapper).
func NewNear(r Swapper, opts NearOptions) *Near {
	n := &Near{redis: r, seed: maphash.MakeSeed(), now: opts.Now}
	if n.now == nil {
		n.now = time.Now
	}
	records := opts.Records
	if records <= 0 {
		records = defaultNearRecords
	}
	n.per = max(1, records/nearShards)
	for i := range n.shards {
		n.shards[i].m = make(map[string]nearEntry)
	}
	return n
}

func (n *Near) shard(key string) *nearShard {
	return &n.shards[maphash.String(n.seed, key)%nearShards]
}

func (n *Near) lookup(key string) (nearEntry, bool) {
	sh := n.shard(key)
	sh.mu.Lock()
	e, ok := sh.m[key]
	sh.mu.Unlock()
	if !ok || !n.now().Before(e.expires) {
		return nearEntry{}, false
	}
	return e, true
}

func (n *Near) remember(key string, data []byte, rev uint64, ttl time.Duration) {
	n.keep(key, nearEntry{data: data, rev: rev}, ttl)
}

// keep keeps e, whose data and rev are set, for ttl.
func (n *Near) keep(key string, e nearEntry, ttl time.Duration) {
	ttl, err := ttlOrDefault(ttl, n.redis.DefaultTTL())
	if err != nil {
		n.forget(key)
		return
	}
	e.expires = n.now().Add(ttl)
	rev := e.rev
	sh := n.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old, held := sh.m[key]
	if held && rev != 0 && old.rev > rev {
		return // a slower read must not replace what a write here kept
	}
	if !held && len(sh.m) >= n.per {
		// Forget one to make room; the map's iteration order is random.
		for k := range sh.m {
			delete(sh.m, k)
			break
		}
	}
	sh.m[key] = e
}

func (n *Near) forget(key string) {
	sh := n.shard(key)
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
}

// Len is how many records this process keeps.
func (n *Near) Len() int {
	total := 0
	for i := range n.shards {
		sh := &n.shards[i]
		sh.mu.Lock()
		total += len(sh.m)
		sh.mu.Unlock()
	}
	return total
}

// Get answers from this process's copy when it has one (Local set, no
// round trip), else reads Redis.
func (n *Near) Get(ctx context.Context, key string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if e, ok := n.lookup(key); ok {
		if e.rev == 0 {
			return Record{Local: true}, ErrNotFound
		}
		return Record{Data: e.data, Rev: e.rev, Local: true}, nil
	}
	// What a read finds is not kept: Redis does not say in the same answer
	// how long the record has left. The hop's write keeps it.
	return n.redis.Get(ctx, key)
}

// Put is Redis's compare-and-set; on a conflict it keeps the record Redis
// answered with, so the caller's next Get needs no round trip.
func (n *Near) Put(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration) (uint64, error) {
	next, cur, err := n.redis.CompareAndSwap(ctx, key, data, rev, ttl)
	switch {
	case err == nil:
		n.remember(key, bytes.Clone(data), next, ttl)
	case errors.Is(err, ErrConflict):
		n.remember(key, cur.Data, cur.Rev, ttl)
	default:
		n.forget(key)
	}
	return next, err
}

// Set writes to Redis and forgets the copy: Set does not tell the revision.
func (n *Near) Set(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	n.forget(key)
	return n.redis.Set(ctx, key, data, ttl)
}

// Delete deletes in Redis and remembers that the key is gone.
func (n *Near) Delete(ctx context.Context, key string) error {
	if err := n.redis.Delete(ctx, key); err != nil {
		n.forget(key)
		return err
	}
	n.remember(key, nil, 0, 0)
	return nil
}

// Verify reads the revision in Redis (one GETRANGE); when it is not rev
// the copy is forgotten and Verify returns ErrConflict.
func (n *Near) Verify(ctx context.Context, key string, rev uint64) error {
	got, err := n.redis.Revision(ctx, key)
	if err != nil {
		n.forget(key)
		return err
	}
	if got != rev {
		n.forget(key)
		return ErrConflict
	}
	return nil
}

// GetWatched answers key and watch from this process's copy when it
// holds key as written here with watch (both Local, no round trip), and
// otherwise reads both from Redis with one MGET (one slot: the keys
// share a hash tag).
func (n *Near) GetWatched(ctx context.Context, key, watch string) (Record, Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, Record{}, err
	}
	if e, ok := n.lookup(key); ok && e.watch == watch {
		w := e.watched
		w.Local = true
		return Record{Data: e.data, Rev: e.rev, Local: true}, w, nil
	}
	recs, err := n.redis.GetMulti(ctx, key, watch)
	if err != nil {
		return Record{}, Record{}, err
	}
	return recs[0], recs[1], nil
}

// PutWatched is Put on the condition that watch is still at watched.Rev,
// in the same round trip; the copy of key keeps watched with it. On any
// conflict the copy is forgotten: the hop's next read is Redis's.
func (n *Near) PutWatched(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration, watch string, watched Record) (uint64, error) {
	next, _, err := n.redis.CompareAndSwapWatched(ctx, key, data, rev, ttl, watch, watched.Rev)
	if err != nil {
		n.forget(key)
		return next, err
	}
	watched = Record{Data: bytes.Clone(watched.Data), Rev: watched.Rev}
	n.keep(key, nearEntry{data: bytes.Clone(data), rev: next, watch: watch, watched: watched}, ttl)
	return next, nil
}

// VerifyWatched reads the revisions of key and watch in Redis (one
// pipelined round trip); when they are not rev and watchRev the copy is
// forgotten and VerifyWatched returns ErrConflict.
func (n *Near) VerifyWatched(ctx context.Context, key string, rev uint64, watch string, watchRev uint64) error {
	got, err := n.redis.Revisions(ctx, key, watch)
	if err != nil {
		n.forget(key)
		return err
	}
	if got[0] != rev || got[1] != watchRev {
		n.forget(key)
		return ErrConflict
	}
	return nil
}

// Ping pings Redis.
func (n *Near) Ping(ctx context.Context) error { return n.redis.Ping(ctx) }

// Close does nothing; the Redis client belongs to the caller.
func (n *Near) Close() error { return nil }
