package sessions

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	// ErrNotFound: no record under that key (never stored, expired or deleted).
	ErrNotFound = errors.New("sessions: not found")
	// ErrConflict: the record changed since it was read; reload and retry.
	ErrConflict = errors.New("sessions: revision conflict")
	// ErrFull: the store refuses new records because it is at capacity.
	ErrFull = errors.New("sessions: store full")
	// ErrMalformed: what the store holds under a key is not a record in
	// its format (corrupt, or written by something else).
	ErrMalformed = errors.New("sessions: malformed record")
)

// Record is stored bytes with their revision. Revisions start at 1; a
// revision of 0 in Put means "must not exist yet".
type Record struct {
	Data []byte
	Rev  uint64
	// Local: the record came from this instance's own copy (see Near),
	// not from the shared store, which may hold a newer revision written
	// by another instance. A Put on top of it is still safe (it conflicts);
	// anything else with effects outside the record should Verify first.
	// Near also answers ErrNotFound with Local set.
	Local bool
}

// Store keeps encoded sessions (and small per-citizen profiles) with a TTL.
// Writes are compare-and-set on the revision, which is what makes two hops
// arriving at once for one session correct: the loser gets ErrConflict and
// re-runs its hop on top of the winner's result.
type Store interface {
	// Get returns the record under key, or ErrNotFound. Record.Data may be
	// shared with the store: read it, never modify it.
	Get(ctx context.Context, key string) (Record, error)
	// Put stores data under key if the stored revision is still rev (0: the
	// key must not exist) and returns the new revision. ErrConflict otherwise.
	// Put does not keep data: the caller may reuse it once Put returns.
	Put(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration) (uint64, error)
	// Set stores data unconditionally (last writer wins), for profiles.
	Set(ctx context.Context, key string, data []byte, ttl time.Duration) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	Close() error
}

// Verifier is what a store that may answer from a local copy (Record.Local)
// adds: Verify confirms with one round trip to the shared store that key
// still holds revision rev (0: nothing), and returns ErrConflict, having
// dropped the stale copy, when it does not.
type Verifier interface {
	Verify(ctx context.Context, key string, rev uint64) error
}

// MultiGetter is what a store that can read several keys in one round trip
// adds. GetMulti returns a record per key, in order; a missing key gives
// the zero Record (Rev 0).
type MultiGetter interface {
	GetMulti(ctx context.Context, keys ...string) ([]Record, error)
}

// Swapper is what a store that Near can stand in front of adds: the
// compare-and-set of Put that, on ErrConflict, also returns the record
// stored now (Rev 0: none) in the same round trip, the revision alone of
// a key (0: none), and the TTL of writes whose ttl is zero. The gateway
// puts Near in front of a Swapper when --near-sessions is set.
type Swapper interface {
	Store
	CompareAndSwap(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration) (uint64, Record, error)
	Revision(ctx context.Context, key string) (uint64, error)
	DefaultTTL() time.Duration
	// MultiGetter reads a record with the one it watches (Watcher).
	MultiGetter
	// CompareAndSwapWatched is CompareAndSwap that also requires watch
	// to be still at watchRev; Revisions reads several revisions in one
	// round trip.
	CompareAndSwapWatched(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration, watch string, watchRev uint64) (uint64, Record, error)
	Revisions(ctx context.Context, keys ...string) ([]uint64, error)
}

// Watcher is what Near adds for a record the caller reads and writes
// together with another one it depends on and does not write with it —
// the question kept for a citizen, which decides where their text goes,
// beside their conversation. The two keys share a hash tag.
//
// GetWatched answers both from this instance's copy (Local set on both,
// no round trip) when it holds key as last written here with watch as
// it was then, and reads both from the shared store in one round trip
// otherwise. A missing record is the zero Record (Rev 0).
//
// PutWatched is Put that also requires watch to be still at
// watched.Rev, in the same round trip, and keeps watched with the copy
// of key. VerifyWatched is Verify of key and of watch's revision. When
// watch has changed they return ErrConflict, having dropped the copy:
// the caller runs again on what the shared store holds.
type Watcher interface {
	GetWatched(ctx context.Context, key, watch string) (rec, watched Record, err error)
	PutWatched(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration, watch string, watched Record) (uint64, error)
	VerifyWatched(ctx context.Context, key string, rev uint64, watch string, watchRev uint64) error
}

// RedisBacked is what a store kept on a Redis server that every instance
// reaches adds. The gateway guards such a store with a circuit breaker
// that probes it with Ping, keeps the durable outbound queue on its
// Client (unless --queue-redis-url names another server) and, with
// --shared-limits, the hop limits too, naming a citizen in the keys of
// those limits with Name (what the store makes of a key's hash tag, so
// that Redis's key space names no one). A store without it runs with
// the in-process queue and limits and no breaker.
type RedisBacked interface {
	Store
	Client() redis.UniversalClient
	Name(s string) string
}
