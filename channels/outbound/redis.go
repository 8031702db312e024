package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// RedisOptions configures NewRedis. Zero values select the defaults.
type RedisOptions struct {
	// Stream names the queue (default "ventanilla:outbound"). Every key
	// starts with it in braces, "{ventanilla:outbound}:…", so that all of
	// them share one Cluster slot and the scripts may touch several.
	Stream string
	// Group is the consumer group every instance reads in (default "senders").
	Group string
	// Consumer names this process in the group (default hostname-pid). Two
	// live processes must not share one.
	Consumer string
	// Visibility is how long a message may stay taken by a consumer without
	// progress before another takes it over (default 2 minutes). It must
	// exceed Options.SendTimeout: a send still running must not be taken.
	Visibility time.Duration
	// ClaimEvery is how often messages past their visibility are looked for
	// (default a quarter of Visibility); also done at start.
	ClaimEvery time.Duration
	// Block is how long one read waits for new messages (default 1s);
	// Close may wait that long for a reader.
	Block time.Duration
	// Poll is how often retries that fell due are moved back into the
	// stream when no earlier one is known (default 1s).
	Poll time.Duration
}

// Redis is a durable Queue on Redis Streams, shared by every instance.
//
// Per carrier, a stream "{Stream}:stream:<carrier>" holds the IDs waiting
// or in flight, read through a consumer group; a sorted set
// "{Stream}:delayed:<carrier>" holds the IDs waiting for a retry, scored by
// due time. Each message has a hash "{Stream}:msg:<id>" with its status and,
// until it is final, the message itself; the hash lives Retain after its
// last change and is what makes Enqueue idempotent. "{Stream}:provider:<pid>"
// maps a carrier's id back to the message for MarkDelivered. The sorted set
// "{Stream}:finished" notes the messages that reached delivered or failed
// and that Options.Finished has not heard yet, scored by when another
// instance may hear them.
//
// Every transition is one script, so a crash between two steps cannot lose
// a message or record a send twice. See docs/notifications.md for the
// at-least-once window that remains.
type Redis struct {
	c      *core
	client redis.UniversalClient
	o      RedisOptions
	base   string

	mu      sync.Mutex
	closing bool
	running bool
	stop    context.CancelFunc // stops taking messages
	hard    context.CancelFunc // cancels sends in flight
	done    chan struct{}      // closed when Run returns
}

var _ Queue = (*Redis)(nil)

// Redis defaults.
const (
	DefaultStream     = "ventanilla:outbound"
	DefaultGroup      = "senders"
	DefaultVisibility = 2 * time.Minute
)

// NewRedis returns a queue on client. The caller keeps ownership of client
// and closes it after Close.
func NewRedis(client redis.UniversalClient, opts Options, ro RedisOptions) (*Redis, error) {
	c, err := newCore(opts)
	if err != nil {
		return nil, err
	}
	if ro.Stream == "" {
		ro.Stream = DefaultStream
	}
	if strings.ContainsAny(ro.Stream, "{}") {
		return nil, fmt.Errorf("outbound: stream name %q: no braces, they are added", ro.Stream)
	}
	if ro.Group == "" {
		ro.Group = DefaultGroup
	}
	if ro.Consumer == "" {
		host, _ := os.Hostname()
		ro.Consumer = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if ro.Visibility <= 0 {
		ro.Visibility = DefaultVisibility
	}
	if ro.Visibility <= c.opts.SendTimeout {
		return nil, fmt.Errorf("outbound: visibility %v must exceed the send timeout %v, or a send still running could be taken over and sent twice", ro.Visibility, c.opts.SendTimeout)
	}
	if ro.ClaimEvery <= 0 {
		ro.ClaimEvery = ro.Visibility / 4
	}
	if ro.Block <= 0 {
		ro.Block = time.Second
	}
	if ro.Poll <= 0 {
		ro.Poll = time.Second
	}
	return &Redis{c: c, client: client, o: ro, base: "{" + ro.Stream + "}"}, nil
}

func (q *Redis) streamKey(carrier string) string  { return q.base + ":stream:" + carrier }
func (q *Redis) delayedKey(carrier string) string { return q.base + ":delayed:" + carrier }
func (q *Redis) msgKey(id string) string          { return q.base + ":msg:" + id }
func (q *Redis) providerKey(pid string) string    { return q.base + ":provider:" + pid }
func (q *Redis) finishedKey() string              { return q.base + ":finished" }

// enqueueScript creates the status and queues the ID, unless the status
// exists.
//
//	KEYS[1] msg hash   KEYS[2] stream
//	ARGV[1] id  ARGV[2] message JSON  ARGV[3] now ms  ARGV[4] retain ms  ARGV[5] carrier  ARGV[6] channel  ARGV[7] deadline ms
var enqueueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
	return 0
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'attempts', '0', 'updated', ARGV[3],
	'msg', ARGV[2], 'carrier', ARGV[5], 'channel', ARGV[6], 'deadline', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('XADD', KEYS[2], '*', 'id', ARGV[1])
return 1
`)

// claimScript takes over one entry idle for longer than the visibility and
// returns it with its delivery count, the fence markScript checks.
//
//	KEYS[1] stream   ARGV[1] group  ARGV[2] consumer  ARGV[3] min idle ms  ARGV[4] cursor
//
// Returns {cursor} or {cursor, stream id, message id, delivery count}.
var claimScript = redis.NewScript(`
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', 1)
local e = r[2][1]
if not e then
	return {r[1]}
end
local id = ''
if e[2] then
	for i = 1, #e[2], 2 do
		if e[2][i] == 'id' then id = e[2][i + 1] end
	end
end
local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
local n = 0
if p[1] then n = p[1][4] end
return {r[1], e[1], id, n}
`)

// markScript records the attempt as "sending" if this consumer still holds
// the entry with the delivery count it was given, and resets the entry's
// idle time so that nobody takes it over during the send.
//
//	KEYS[1] stream  KEYS[2] msg hash
//	ARGV[1] group  ARGV[2] consumer  ARGV[3] stream id  ARGV[4] delivery count  ARGV[5] now ms  ARGV[6] retain ms
//
// Returns {'ok', attempts}, {'lost'} or {'final'}.
var markScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not p[1] or p[1][2] ~= ARGV[2] or tostring(p[1][4]) ~= ARGV[4] then
	return {'lost'}
end
local st = redis.call('HMGET', KEYS[2], 'state', 'attempts')
if st[1] ~= 'queued' and st[1] ~= 'sending' then
	return {'final'}
end
local n = tonumber(st[2] or '0') + 1
redis.call('HSET', KEYS[2], 'state', 'sending', 'attempts', n, 'updated', ARGV[5], 'next', '')
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return {'ok', n}
`)

// finishScript records a final outcome, forgets the message's content and
// removes the entry, in one step; a message that failed is noted in the
// set of those Options.Finished owes a hearing, due when the note's lease
// runs out.
//
//	KEYS[1] stream  KEYS[2] msg hash  KEYS[3] finished set  [KEYS[4] provider key]
//	ARGV[1] group  ARGV[2] stream id  ARGV[3] state  ARGV[4] now ms  ARGV[5] retain ms  ARGV[6] error  ARGV[7] provider id  ARGV[8] id
//	ARGV[9] due ms of the note, or '' for none
var finishScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[2], 'state')
if cur == 'queued' or cur == 'sending' then
	redis.call('HSET', KEYS[2], 'state', ARGV[3], 'updated', ARGV[4], 'next', '', 'pid', ARGV[7])
	if ARGV[6] ~= '' then
		redis.call('HSET', KEYS[2], 'err', ARGV[6])
	end
	redis.call('HDEL', KEYS[2], 'msg')
	redis.call('PEXPIRE', KEYS[2], ARGV[5])
	if KEYS[4] then
		redis.call('SET', KEYS[4], ARGV[8], 'PX', ARGV[5])
	end
	if ARGV[9] ~= '' then
		redis.call('ZADD', KEYS[3], ARGV[9], ARGV[8])
	end
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
`)

// retryScript puts the message back to wait in the delayed set and
// removes the entry, in one step; a retry due at once goes straight back
// into the stream. A message that fails over to another carrier waits in
// that carrier's set or stream, its content and status naming the new
// carrier.
//
//	KEYS[1] stream  KEYS[2] msg hash  KEYS[3] delayed set of the retry's carrier  KEYS[4] its stream
//	ARGV[1] group  ARGV[2] stream id  ARGV[3] now ms  ARGV[4] retain ms  ARGV[5] error  ARGV[6] due ms  ARGV[7] id
//	[ARGV[8] new carrier  ARGV[9] message JSON for it]
var retryScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[2], 'state')
if cur == 'queued' or cur == 'sending' then
	redis.call('HSET', KEYS[2], 'state', 'queued', 'updated', ARGV[3], 'err', ARGV[5], 'next', ARGV[6])
	if ARGV[8] then
		redis.call('HSET', KEYS[2], 'carrier', ARGV[8], 'msg', ARGV[9])
	end
	redis.call('PEXPIRE', KEYS[2], ARGV[4])
	if tonumber(ARGV[6]) <= tonumber(ARGV[3]) then
		redis.call('XADD', KEYS[4], '*', 'id', ARGV[7])
	else
		redis.call('ZADD', KEYS[3], ARGV[6], ARGV[7])
	end
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
`)

// dropScript removes an entry that needs no send (its message is final or
// gone).
//
//	KEYS[1] stream   ARGV[1] group  ARGV[2] stream id
var dropScript = redis.NewScript(`
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
`)

// requeueScript gives an entry back to the stream as a new entry, for a
// consumer that stops before sending it.
//
//	KEYS[1] stream   ARGV[1] group  ARGV[2] stream id  ARGV[3] id
var requeueScript = redis.NewScript(`
redis.call('XADD', KEYS[1], '*', 'id', ARGV[3])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
`)

// moveScript moves retries that fell due back into the stream.
//
//	KEYS[1] delayed set  KEYS[2] stream   ARGV[1] now ms  ARGV[2] limit
var moveScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(ids) do
	redis.call('ZREM', KEYS[1], id)
	redis.call('XADD', KEYS[2], '*', 'id', id)
end
return #ids
`)

// deliveredScript applies a delivery report to a message that was sent,
// and notes the message among those Options.Finished owes a hearing.
//
//	KEYS[1] msg hash  KEYS[2] finished set
//	ARGV[1] state  ARGV[2] now ms  ARGV[3] error  ARGV[4] retain ms  ARGV[5] id  ARGV[6] due ms of the note, or '' for none
var deliveredScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'sent' then
	return 0
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'updated', ARGV[2])
if ARGV[3] ~= '' then
	redis.call('HSET', KEYS[1], 'err', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[6] ~= '' then
	redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
end
return 1
`)

// owedScript takes up to ARGV[3] notes of Options.Finished due at
// ARGV[1], and leases each until ARGV[2], so that two instances do not
// hear one at once.
//
//	KEYS[1] finished set   ARGV[1] now ms  ARGV[2] lease end ms  ARGV[3] limit
var owedScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
	redis.call('ZADD', KEYS[1], ARGV[2], id)
end
return ids
`)

// Enqueue stores the message and its status and queues its ID, unless the
// ID is known.
func (q *Redis) Enqueue(ctx context.Context, m carrier.Message) (string, error) {
	if err := q.c.opts.check(m); err != nil {
		return "", err
	}
	q.mu.Lock()
	closing := q.closing
	q.mu.Unlock()
	if closing {
		return "", ErrClosed
	}
	if m.Deadline.IsZero() {
		m.Deadline = q.c.opts.Now().Add(q.c.opts.ValidFor)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("outbound: encoding message: %w", err)
	}
	keys := []string{q.msgKey(m.ID), q.streamKey(m.Carrier)}
	if err := enqueueScript.Run(ctx, q.client, keys, m.ID, body, q.nowMs(), ms(q.c.opts.Retain), m.Carrier, m.Channel, m.Deadline.UnixMilli()).Err(); err != nil {
		return "", fmt.Errorf("outbound: redis enqueue: %w", err)
	}
	return m.ID, nil
}

// Status reads the message's status hash.
func (q *Redis) Status(ctx context.Context, id string) (Status, error) {
	h, err := q.client.HGetAll(ctx, q.msgKey(id)).Result()
	if err != nil {
		return Status{}, fmt.Errorf("outbound: redis status: %w", err)
	}
	if len(h) == 0 {
		return Status{}, ErrNotFound
	}
	attempts, _ := strconv.Atoi(h["attempts"])
	return Status{
		ID:         id,
		State:      h["state"],
		Attempts:   attempts,
		LastError:  h["err"],
		Updated:    fromMs(h["updated"]),
		Next:       fromMs(h["next"]),
		Deadline:   fromMs(h["deadline"]),
		ProviderID: h["pid"],
		Carrier:    h["carrier"],
		Channel:    h["channel"],
	}, nil
}

// MarkDelivered applies a delivery report to a sent message.
func (q *Redis) MarkDelivered(ctx context.Context, providerID, state string) error {
	if providerID == "" {
		return ErrNotFound
	}
	id, err := q.client.Get(ctx, q.providerKey(providerID)).Result()
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("outbound: redis delivery report: %w", err)
	}
	to := reportedState(state)
	if to == "" {
		return nil
	}
	var msg string
	if to == StateFailed {
		msg = "carrier reported " + Scrub(state, carrier.Message{})
	}
	changed, err := deliveredScript.Run(ctx, q.client, []string{q.msgKey(id), q.finishedKey()}, to, q.nowMs(), msg, ms(q.c.opts.Retain), id, q.owedDue()).Int()
	if err != nil {
		return fmt.Errorf("outbound: redis delivery report: %w", err)
	}
	if changed == 1 {
		q.finished(ctx, id)
	}
	return nil
}

// finished tells Options.Finished that message id reached a final state
// and, once it has heard it, removes the note that it was owed. A note
// left (Finished failed, Redis failed, the process died) is heard again
// by the teller.
func (q *Redis) finished(ctx context.Context, id string) {
	if q.c.opts.Finished == nil {
		return
	}
	st, err := q.Status(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		// Expired: nobody can be told any more.
	case err != nil:
		q.c.opts.Log.Warn("outbound: a finished message's status unreadable; it is heard again later", "message_id", id, "err", err)
		return
	default:
		if err := q.c.opts.Finished(ctx, st); err != nil {
			q.c.opts.Log.Warn("outbound: a finished message not heard; it is heard again later", "message_id", id, "state", st.State, "err", err)
			q.client.ZAddXX(ctx, q.finishedKey(), redis.Z{Score: float64(q.c.opts.Now().Add(q.c.opts.FinishedEvery).UnixMilli()), Member: id})
			return
		}
	}
	if err := q.client.ZRem(ctx, q.finishedKey(), id).Err(); err != nil {
		q.c.opts.Log.Warn("outbound: a finished message heard, but its note kept; it is heard again later", "message_id", id, "err", err)
	}
}

// owedDue is when the note that Options.Finished owes a message a
// hearing falls due for another instance: after Visibility, as a message
// left in flight does. "" when nothing listens.
func (q *Redis) owedDue() string {
	if q.c.opts.Finished == nil {
		return ""
	}
	return strconv.FormatInt(q.c.opts.Now().Add(q.o.Visibility).UnixMilli(), 10)
}

// teller hears, at start and every FinishedEvery, the finished messages
// Options.Finished was owed and did not hear: its process died between
// the final status and the hearing, or Finished failed.
func (q *Redis) teller(ctx context.Context) {
	const batch = 100
	var wait retrying
	for ctx.Err() == nil {
		now := q.c.opts.Now()
		ids, err := owedScript.Run(ctx, q.client, []string{q.finishedKey()}, now.UnixMilli(), now.Add(q.o.Visibility).UnixMilli(), batch).StringSlice()
		if err != nil {
			if ctx.Err() == nil {
				wait.fail(ctx, q.c.opts.Log, "reading the finished messages not heard", err)
			}
			continue
		}
		wait.ok()
		for _, id := range ids {
			q.c.opts.Log.Info("outbound: a finished message heard late", "message_id", id)
			q.finished(ctx, id)
		}
		if len(ids) == batch {
			continue
		}
		_ = q.c.opts.Sleep(ctx, q.c.opts.FinishedEvery)
	}
}

// Depth counts the entries in every carrier's stream and delayed set.
func (q *Redis) Depth(ctx context.Context) (int64, error) {
	var cmds []*redis.IntCmd
	_, err := q.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for carrier := range q.c.opts.Senders {
			cmds = append(cmds, p.XLen(ctx, q.streamKey(carrier)), p.ZCard(ctx, q.delayedKey(carrier)))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("outbound: redis depth: %w", err)
	}
	var n int64
	for _, c := range cmds {
		n += c.Val()
	}
	return n, nil
}

// Run reads, claims and sends until ctx is done or Close is called; after
// Close it returns at once. A Redis that cannot be reached is retried,
// logged, and waited for.
func (q *Redis) Run(ctx context.Context) error {
	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		return nil
	}
	if q.running {
		q.mu.Unlock()
		return errors.New("outbound: Run called twice")
	}
	hard, cancelHard := context.WithCancel(ctx)
	taking, stop := context.WithCancel(hard)
	q.running, q.stop, q.hard, q.done = true, stop, cancelHard, make(chan struct{})
	q.mu.Unlock()
	defer cancelHard()

	var wg sync.WaitGroup
	for carrier := range q.c.opts.Senders {
		l := &redisLane{carrier: carrier, stream: q.streamKey(carrier), delayed: q.delayedKey(carrier)}
		for range q.c.opts.Workers {
			wg.Go(func() { q.reader(taking, hard, l) })
		}
		wg.Go(func() { q.claimer(taking, hard, l) })
		wg.Go(func() { q.mover(taking, l) })
	}
	if q.c.opts.Finished != nil {
		wg.Go(func() { q.teller(taking) })
	}
	wg.Wait()

	q.mu.Lock()
	q.running = false
	close(q.done)
	q.mu.Unlock()
	return nil
}

// Close stops taking messages and waits, within ctx, for the sends in
// flight. What is still queued stays in Redis for the next Run.
func (q *Redis) Close(ctx context.Context) error {
	q.mu.Lock()
	q.closing = true
	running, done, stop, hard := q.running, q.done, q.stop, q.hard
	q.mu.Unlock()
	if stop != nil {
		stop()
	}
	if !running {
		if done != nil {
			<-done
		}
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	hard()
	<-done
	return fmt.Errorf("outbound: closing: sends in flight cancelled, they stay in Redis for the next run: %w", ctx.Err())
}

type redisLane struct {
	carrier, stream, delayed string
}

// entry is one stream entry this consumer holds, with the delivery count
// that fences its attempt.
type entry struct {
	sid   string // stream entry id
	id    string // message id
	count int64
}

// reader reads new entries of one carrier's stream and sends them. taking
// ends when the queue stops taking messages; hard when sends must stop.
func (q *Redis) reader(taking, hard context.Context, l *redisLane) {
	var wait retrying
	grouped := false
	for taking.Err() == nil {
		if !grouped {
			if err := q.ensureGroup(taking, l); err != nil {
				wait.fail(taking, q.c.opts.Log, "creating the consumer group", err)
				continue
			}
			grouped = true
		}
		res, err := q.client.XReadGroup(taking, &redis.XReadGroupArgs{
			Group:    q.o.Group,
			Consumer: q.o.Consumer,
			Streams:  []string{l.stream, ">"},
			Count:    1,
			Block:    q.o.Block,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue
		case err != nil:
			if taking.Err() != nil {
				return
			}
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				grouped = false
			}
			wait.fail(taking, q.c.opts.Log, "reading the stream", err)
			continue
		}
		wait.ok()
		for _, s := range res {
			for _, x := range s.Messages {
				id, _ := x.Values["id"].(string)
				q.handle(taking, hard, l, entry{sid: x.ID, id: id, count: 1})
			}
		}
	}
}

func (q *Redis) ensureGroup(ctx context.Context, l *redisLane) error {
	// From "0", so that entries added before the group existed are read.
	err := q.client.XGroupCreateMkStream(ctx, l.stream, q.o.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	return nil
}

// claimer takes over, at start and every ClaimEvery, entries that a
// consumer took and made no progress on for Visibility (it died, or lost
// Redis), and sends them.
func (q *Redis) claimer(taking, hard context.Context, l *redisLane) {
	var wait retrying
	cursor := "0-0"
	for taking.Err() == nil {
		e, next, err := q.claim(taking, l, cursor)
		if err != nil {
			if taking.Err() != nil {
				return
			}
			if !strings.HasPrefix(err.Error(), "NOGROUP") { // the reader creates it
				wait.fail(taking, q.c.opts.Log, "claiming stale messages", err)
			} else {
				wait.fail(taking, nil, "", err)
			}
			cursor = "0-0"
			continue
		}
		wait.ok()
		cursor = next
		if e != nil {
			q.handle(taking, hard, l, *e)
			continue
		}
		if cursor != "0-0" {
			continue
		}
		select {
		case <-time.After(q.o.ClaimEvery):
		case <-taking.Done():
		}
	}
}

func (q *Redis) claim(ctx context.Context, l *redisLane, cursor string) (*entry, string, error) {
	res, err := claimScript.Run(ctx, q.client, []string{l.stream}, q.o.Group, q.o.Consumer, ms(q.o.Visibility), cursor).Slice()
	if err != nil {
		return nil, "0-0", err
	}
	next, _ := res[0].(string)
	if len(res) < 4 {
		return nil, next, nil
	}
	e := &entry{}
	e.sid, _ = res[1].(string)
	e.id, _ = res[2].(string)
	e.count, _ = res[3].(int64)
	q.c.opts.Log.Warn("outbound: took over a message another consumer left", "message_id", e.id, "carrier", l.carrier, "deliveries", e.count)
	return e, next, nil
}

// mover moves retries that fell due back into the stream, waiting on the
// queue's clock until the earliest one or Poll.
func (q *Redis) mover(taking context.Context, l *redisLane) {
	const batch = 100
	var wait retrying
	for taking.Err() == nil {
		n, err := moveScript.Run(taking, q.client, []string{l.delayed, l.stream}, q.nowMs(), batch).Int()
		if err != nil {
			if taking.Err() == nil {
				wait.fail(taking, q.c.opts.Log, "moving due retries", err)
			}
			continue
		}
		wait.ok()
		if n == batch {
			continue
		}
		d := q.o.Poll
		if z, err := q.client.ZRangeWithScores(taking, l.delayed, 0, 0).Result(); err == nil && len(z) > 0 {
			d = min(d, time.UnixMilli(int64(z[0].Score)).Sub(q.c.opts.Now()))
		}
		if d > 0 {
			_ = q.c.opts.Sleep(taking, d)
		}
	}
}

// handle sends the message of one entry this consumer holds and records
// the outcome. It waits for the carrier's rate while taking lasts, and
// sends and records under hard.
func (q *Redis) handle(taking, ctx context.Context, l *redisLane, e entry) {
	log := q.c.opts.Log
	if e.id == "" {
		q.record(ctx, "dropping an entry without id", func(ctx context.Context) error {
			return dropScript.Run(ctx, q.client, []string{l.stream}, q.o.Group, e.sid).Err()
		})
		return
	}
	vals, err := q.client.HMGet(ctx, q.msgKey(e.id), "state", "attempts", "msg").Result()
	if err != nil {
		// Left pending: a claimer takes it again after Visibility.
		log.Warn("outbound: reading a message failed; it will be retried", "message_id", e.id, "err", err)
		return
	}
	state, _ := vals[0].(string)
	attempts, _ := vals[1].(string)
	body, _ := vals[2].(string)
	drop := func(why string) {
		q.record(ctx, why, func(ctx context.Context) error {
			return dropScript.Run(ctx, q.client, []string{l.stream}, q.o.Group, e.sid).Err()
		})
	}
	switch state {
	case StateQueued, StateSending:
	case "":
		log.Warn("outbound: message expired before it was sent", "message_id", e.id, "carrier", l.carrier)
		drop("dropping an expired message")
		return
	default:
		drop("dropping a finished message")
		return
	}
	var m carrier.Message
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Carrier != l.carrier {
		q.finish(ctx, l, e, StateFailed, "", "stored message unreadable")
		return
	}
	if n, _ := strconv.Atoi(attempts); q.c.opts.MaxAttempts > 0 && n >= q.c.opts.MaxAttempts {
		q.finish(ctx, l, e, StateFailed, "", fmt.Sprintf("gave up after %d attempts", n))
		return
	}
	if state == StateSending {
		// The consumer that marked it died or lost Redis during the send:
		// whether the carrier took it is unknown. Sent again, under the
		// same ID for carriers that deduplicate (at least once).
		log.Warn("outbound: resending a message whose last send has no known outcome", "message_id", e.id, "carrier", l.carrier, "attempts", attempts)
	}
	out := q.c.attempt(taking, ctx, m, func(ctx context.Context) (int, error) { return q.mark(ctx, l, e) })
	switch out.kind {
	case outcomeSent:
		q.finish(ctx, l, e, StateSent, out.providerID, "")
	case outcomeFailed:
		log.Warn("outbound: message failed", "message_id", e.id, "carrier", l.carrier, "attempts", out.attempts, "err", out.err)
		q.finish(ctx, l, e, StateFailed, "", out.err)
	case outcomeRetry:
		now := q.c.opts.Now()
		due := now.Add(out.delay)
		keys := []string{l.stream, q.msgKey(e.id), l.delayed, l.stream}
		args := []any{q.o.Group, e.sid, now.UnixMilli(), ms(q.c.opts.Retain), out.err, due.UnixMilli(), e.id}
		if out.carrier != m.Carrier {
			m.Carrier = out.carrier
			moved, err := json.Marshal(m)
			if err != nil {
				q.finish(ctx, l, e, StateFailed, "", "stored message unreadable")
				return
			}
			keys[2], keys[3] = q.delayedKey(out.carrier), q.streamKey(out.carrier)
			args = append(args, out.carrier, moved)
		}
		q.record(ctx, "scheduling a retry", func(ctx context.Context) error {
			return retryScript.Run(ctx, q.client, keys, args...).Err()
		})
	case outcomeFinal:
		drop("dropping a finished message")
	case outcomeNotStarted:
		// Stopped while waiting for its turn: back in line now, rather
		// than held until a claimer takes it after Visibility.
		q.record(ctx, "putting a message back", func(ctx context.Context) error {
			return requeueScript.Run(ctx, q.client, []string{l.stream}, q.o.Group, e.sid, e.id).Err()
		})
	}
	// outcomeAborted, outcomeLost: leave the entry; its holder or a
	// claimer decides.
}

func (q *Redis) mark(ctx context.Context, l *redisLane, e entry) (int, error) {
	keys := []string{l.stream, q.msgKey(e.id)}
	res, err := markScript.Run(ctx, q.client, keys, q.o.Group, q.o.Consumer, e.sid, e.count, q.nowMs(), ms(q.c.opts.Retain)).Slice()
	if err != nil {
		return 0, err
	}
	switch res[0] {
	case "ok":
		n, _ := res[1].(int64)
		return int(n), nil
	case "final":
		return 0, errFinal
	}
	return 0, errLost
}

func (q *Redis) finish(ctx context.Context, l *redisLane, e entry, state, pid, msg string) {
	recorded := q.record(ctx, "recording an outcome", func(ctx context.Context) error {
		keys := []string{l.stream, q.msgKey(e.id), q.finishedKey()}
		if pid != "" {
			keys = append(keys, q.providerKey(pid))
		}
		due := ""
		if state == StateFailed {
			due = q.owedDue()
		}
		return finishScript.Run(ctx, q.client, keys, q.o.Group, e.sid, state, q.nowMs(), ms(q.c.opts.Retain), msg, pid, e.id, due).Err()
	})
	if recorded && state == StateFailed {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		q.finished(fctx, e.id)
	}
}

// record runs a write that must happen even while shutting down, since the
// send it records already happened; it retries for a while, because a
// send left unrecorded would be sent again after Visibility.
func (q *Redis) record(ctx context.Context, what string, write func(context.Context) error) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(q.o.Visibility, 30*time.Second))
	defer cancel()
	// 20ms, doubling up to 1s, no jitter.
	waits := &backoff.ExponentialBackOff{InitialInterval: 20 * time.Millisecond, Multiplier: 2, MaxInterval: time.Second}
	for {
		err := write(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			q.c.opts.Log.Error("outbound: "+what+" failed; the message may be sent again", "err", err)
			return false
		}
		_ = sleep(ctx, waits.NextBackOff())
	}
}

func (q *Redis) nowMs() int64 { return q.c.opts.Now().UnixMilli() }

func ms(d time.Duration) int64 { return max(1, d.Milliseconds()) }

func fromMs(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// retrying paces a loop that keeps failing against Redis, on the real
// clock: from 100ms, doubling up to 5s, with jitter so that the instances
// that lost Redis together do not come back together. It logs the first
// failure of a streak.
type retrying struct {
	b       backoff.ExponentialBackOff
	failing bool
}

func (r *retrying) fail(ctx context.Context, log *slog.Logger, what string, err error) {
	if !r.failing {
		if log != nil {
			log.Warn("outbound: redis failing; retrying", "doing", what, "err", err)
		}
		r.failing = true
		r.b = backoff.ExponentialBackOff{InitialInterval: 100 * time.Millisecond, Multiplier: 2, MaxInterval: 5 * time.Second, RandomizationFactor: backoffJitter}
	}
	_ = sleep(ctx, r.b.NextBackOff())
}

func (r *retrying) ok() { r.failing = false }
