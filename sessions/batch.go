package sessions

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Batch makes client send the hop commands of concurrent hops to Redis
// together: while one batch is on the wire, the commands that arrive wait
// and leave in the next, as one pipeline — one write and one read for
// all of them instead of one each, on both ends. Under load that spares
// most of the system calls and wake-ups of a round trip; a hop alone
// waits for nothing. Each hop still makes its one round trip; it shares
// it.
//
// Only the commands of sessions and profiles are batched (GET, MGET,
// GETRANGE, SET, DEL, EVAL, EVALSHA); anything else — a blocking stream
// read of the outbound queue above all — goes out on its own.
//
// The batching goroutine lives as long as the process.
func Batch(client redis.UniversalClient) { batch(client) }

func batch(client redis.UniversalClient) *batcher {
	b := &batcher{client: client, calls: make(chan *batchCall, 1024)}
	go b.loop()
	client.AddHook(b)
	return b
}

type batcher struct {
	client redis.UniversalClient
	calls  chan *batchCall
}

type batchCall struct {
	ctx  context.Context
	cmd  redis.Cmder
	done chan struct{}
}

var batchCalls = sync.Pool{New: func() any { return &batchCall{done: make(chan struct{}, 1)} }}

// maxBatch bounds one pipeline; a longer queue leaves in several.
const maxBatch = 64

func (b *batcher) DialHook(next redis.DialHook) redis.DialHook { return next }

func (b *batcher) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (b *batcher) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !batchable(cmd.Name()) || ctx.Err() != nil {
			return next(ctx, cmd)
		}
		c := batchCalls.Get().(*batchCall)
		c.ctx, c.cmd = ctx, cmd
		b.calls <- c
		// The batch ends by the latest deadline among its commands (with
		// the client's ContextTimeoutEnabled) and the client's timeouts,
		// as a command sent alone does; a command whose deadline passed
		// while it queued is not sent at all.
		<-c.done
		c.ctx, c.cmd = nil, nil
		batchCalls.Put(c)
		if err := cmd.Err(); err != nil && err != redis.Nil && deadlinePassed(ctx) {
			// The batch's connection timed out at the latest deadline
			// of its commands; a command whose own deadline has passed
			// by then ends with that deadline, as one sent alone does,
			// whether or not the context's timer has fired yet.
			cmd.SetErr(context.DeadlineExceeded)
		}
		return cmd.Err()
	}
}

// deadlinePassed says whether ctx's deadline has come, by the clock rather
// than by its Err, which its timer may not have set yet.
func deadlinePassed(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// batchable names the commands that wait for a batch. A new connection's
// handshake (HELLO, AUTH, SELECT, CLIENT) must never be among them: the
// batching goroutine itself may be the one dialling, and would wait for
// its own batch.
func batchable(name string) bool {
	switch name {
	case "get", "mget", "getrange", "set", "del", "eval", "evalsha":
		return true
	}
	return false
}

// loop sends what has queued up, one pipeline at a time.
func (b *batcher) loop() {
	batch := make([]*batchCall, 0, maxBatch)
	for first := range b.calls {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case c := <-b.calls:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		// A pipeline's commands come back with their own answers and
		// errors; what Exec returns is the first error, already in them.
		// The pipeline lives until the latest deadline of the commands
		// it carries (none if one has none): a hop's ending does not cut
		// another's command short, and no command is sent, dialled for
		// or retried on behalf of hops that have all given up.
		pipe := b.client.Pipeline()
		var deadline time.Time
		bounded := true
		for _, c := range batch {
			if err := c.ctx.Err(); err != nil {
				c.cmd.SetErr(err)
				continue
			}
			d, ok := c.ctx.Deadline()
			bounded = bounded && ok
			if d.After(deadline) {
				deadline = d
			}
			_ = pipe.Process(c.ctx, c.cmd)
		}
		if pipe.Len() > 0 {
			ctx, cancel := context.WithoutCancel(first.ctx), context.CancelFunc(func() {})
			if bounded {
				ctx, cancel = context.WithDeadline(ctx, deadline)
			}
			_, _ = pipe.Exec(ctx)
			cancel()
		}
		for _, c := range batch {
			c.done <- struct{}{}
		}
	}
}
