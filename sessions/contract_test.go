package sessions_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/sessions"
	"github.com/ventanilla-gob/ventanilla/sessions/storetest"
)

// Every store of this package passes the exported contract, as a store
// written elsewhere would: one server per test, a key prefix per store
// keeps the subtests apart as if each had its own server.

// clockedMemory lets the contract suite move the clock of a Memory.
type clockedMemory struct {
	*sessions.Memory
	*clockwork.FakeClock
}

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sessions.Store {
		clock := testutil.NewClock(time.Date(2025, 11, 23, 10, 0, 0, 0, time.UTC))
		m := sessions.NewMemory(sessions.MemoryOptions{Now: clock.Now})
		t.Cleanup(func() { _ = m.Close() })
		return clockedMemory{m, clock}
	})
}

// prefixed returns stores on client, each under a prefix of its own.
func prefixed(name string, client redis.UniversalClient) func(t *testing.T) sessions.Store {
	var n atomic.Int64
	return func(t *testing.T) sessions.Store {
		return sessions.NewRedis(client, sessions.RedisOptions{Prefix: name + strconv.FormatInt(n.Add(1), 10) + ":"})
	}
}

// near returns Near stores in front of the stores of redis.
func near(redis func(t *testing.T) sessions.Store) func(t *testing.T) sessions.Store {
	return func(t *testing.T) sessions.Store {
		return sessions.NewNear(redis(t).(sessions.Swapper), sessions.NearOptions{})
	}
}

func TestRedisContract(t *testing.T) {
	storetest.Run(t, prefixed("test", redistest.Start(t)))
}

func TestNearContract(t *testing.T) {
	storetest.Run(t, near(prefixed("near", redistest.Start(t))))
}

// batchedClient is a fresh client of the test server with Batch on.
func batchedClient(t *testing.T) *redis.Client {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: redistest.Start(t).Options().Addr})
	t.Cleanup(func() { client.Close() })
	sessions.Batch(client)
	return client
}

func TestBatchedRedisContract(t *testing.T) {
	storetest.Run(t, prefixed("batched", batchedClient(t)))
}

func TestBatchedNearContract(t *testing.T) {
	storetest.Run(t, near(prefixed("batchednear", batchedClient(t))))
}

func TestBreakerContract(t *testing.T) {
	client := redistest.Start(t)
	stores := prefixed("brk", client)
	storetest.Run(t, func(t *testing.T) sessions.Store {
		b := sessions.NewBreaker(sessions.BreakerOptions{Probe: func(ctx context.Context) error { return client.Ping(ctx).Err() }})
		t.Cleanup(b.Close)
		return b.Wrap(stores(t))
	})
}

// The contract holds on a real Redis Cluster of three masters, where a
// command whose keys lie in different slots fails with CROSSSLOT, and
// behind a real Sentinel.
func TestRedisClusterContract(t *testing.T) {
	storetest.Run(t, prefixed("test", redistest.StartCluster(t)))
}

func TestRedisSentinelContract(t *testing.T) {
	client, _ := redistest.StartSentinel(t)
	storetest.Run(t, prefixed("test", client))
}

// Batched, the commands of concurrent hops leave in one pipeline, which a
// cluster client splits by node.
func TestRedisClusterContractBatched(t *testing.T) {
	redistest.StartCluster(t) // empties it
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: redistest.ClusterAddrs(t)})
	t.Cleanup(func() { _ = c.Close() })
	sessions.Batch(c)
	storetest.Run(t, prefixed("test", c))
}
