package outbound_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// The queue's contract holds on a real Redis Cluster of three masters,
// where a script whose keys lie in different slots fails with CROSSSLOT,
// and behind a real Sentinel.
func TestRedisClusterContract(t *testing.T) {
	testQueue(t, func(t *testing.T, opts outbound.Options) outbound.Queue {
		return newRedis(t, redistest.StartCluster(t), opts, outbound.RedisOptions{})
	})
}

func TestRedisSentinelContract(t *testing.T) {
	testQueue(t, func(t *testing.T, opts outbound.Options) outbound.Queue {
		c, _ := redistest.StartSentinel(t)
		return newRedis(t, c, opts, outbound.RedisOptions{})
	})
}

// Two instances on one Cluster share the work and send each message once.
func TestRedisClusterInstancesSendEachOnce(t *testing.T) {
	shareTheWork(t, redistest.StartCluster(t), 50*time.Millisecond)
}

// shareTheWork runs two consumers on client and checks each message of
// those enqueued on either goes out once. block is the consumers' blocking
// read (0: the queue's default).
func shareTheWork(t *testing.T, client redis.UniversalClient, block time.Duration) {
	s := newSender(func(ctx context.Context, m carrier.Message, n int) error {
		// A carrier's latency, kept on purpose: while one consumer's
		// workers send, the other's take the next messages, so the two
		// compete for the work. Nothing waits on it.
		time.Sleep(time.Millisecond)
		return nil
	})
	opts := outbound.Options{Senders: map[string]carrier.Sender{"twilio": s}, Workers: 3, Log: testLog(t)}
	a := newRedis(t, client, opts, outbound.RedisOptions{Consumer: "a", Block: block})
	b := newRedis(t, client, opts, outbound.RedisOptions{Consumer: "b", Block: block})
	run(t, a)
	run(t, b)
	const n = 40
	for i := range n {
		q := outbound.Queue(a)
		if i%2 == 1 {
			q = b
		}
		mustEnqueue(t, q, msg(fmt.Sprint("m", i)))
	}
	testutil.WaitFor(t, "all sent", func() bool { return s.Total() >= n && depth(t, a) == 0 })
	for i := range n {
		if c := s.Calls(fmt.Sprint("m", i)); c != 1 {
			t.Errorf("m%d sent %d times, want 1", i, c)
		}
	}
}
