package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/channels/notify/callbacks"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/reminders"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// outboundPath is the queue of messages the gateway sends on its own, the
// carriers that need it, and the notifications API.
type outboundPath struct {
	queue   outbound.Queue
	stopRun context.CancelFunc
	done    sync.WaitGroup
	sms     string // the carrier that sends SMS, "" when none
	// records is where the notifications API keeps its records: the
	// queue's own Redis, else the session store.
	records sessions.Store
	client  *redis.Client // the queue's own Redis, closed by close
	// later keeps messages to send later: reminders, send_at.
	later reminders.Store
	// callbacks pushes notifications' outcomes (and citizens' replies) to
	// the institutions' callback URLs.
	callbacks *callbacks.Callbacks
	// notices is the notifications API, once mounted: the queue tells it
	// each message that finished. mounted says the start is past the
	// point where it is mounted (or not, when it is off).
	notices atomic.Pointer[notify.Handler]
	mounted atomic.Bool
}

// startQueue starts the outbound queue over the senders and makes it the
// engine's way to send late results and one-time codes, by the first SMS
// carrier of order that has a sender.
func (a *app) startQueue(order []string, senders map[string]carrier.Sender, store sessions.Store) (*outboundPath, error) {
	rates, err := parseRates(a.cfg.OutboundRates)
	if err != nil {
		return nil, err
	}
	p := &outboundPath{records: store}
	opts := outbound.Options{Senders: senders, Rates: rates, Failover: smsFailover(order, senders), Log: a.log,
		Finished: func(ctx context.Context, st outbound.Status) error {
			if h := p.notices.Load(); h != nil {
				return h.Finished(ctx, st)
			}
			if !p.mounted.Load() {
				// A message the queue finished while the gateway starts:
				// heard again once the API is up.
				return errors.New("the notifications API is not mounted yet")
			}
			return nil
		}}
	r, shared := sessions.Unwrap(store).(sessions.RedisBacked)
	switch {
	case a.cfg.QueueRedisURL != "":
		client, err := redisClient(a.cfg.QueueRedisURL)
		if err != nil {
			return nil, fmt.Errorf("--queue-redis-url: %w", err)
		}
		p.client = client
		if err := a.checkQueueDurability(p.client, false); err != nil {
			_ = p.client.Close()
			return nil, err
		}
		if p.queue, err = outbound.NewRedis(p.client, opts, outbound.RedisOptions{}); err != nil {
			_ = p.client.Close()
			return nil, fmt.Errorf("outbound queue: %w", err)
		}
		// What the notifications API keeps about each notification lives
		// and dies with its status.
		p.records = sessions.NewRedis(p.client, sessions.RedisOptions{})
	case shared:
		if err := a.checkQueueDurability(r.Client(), true); err != nil {
			return nil, err
		}
		if p.queue, err = outbound.NewRedis(r.Client(), opts, outbound.RedisOptions{}); err != nil {
			return nil, fmt.Errorf("outbound queue: %w", err)
		}
		if a.breaker != nil {
			p.queue = outbound.WithBreaker(p.queue, a.breaker)
		}
	default:
		if p.queue, err = outbound.NewMemory(opts); err != nil {
			return nil, fmt.Errorf("outbound queue: %w", err)
		}
	}
	runCtx, stop := context.WithCancel(context.Background())
	p.stopRun = stop
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		if err := p.queue.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("outbound queue stopped", "err", err)
		}
	}()
	a.outbound = p
	a.startReminders(p, store, runCtx)
	if err := a.startCallbacks(p, store, runCtx); err != nil {
		stop()
		return nil, err
	}
	a.metrics.Gauge("outbound_queue_depth", "Messages waiting in the outbound queue.", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		n, _ := p.queue.Depth(ctx)
		return float64(n)
	})
	for _, name := range order {
		if _, ok := senders[name]; ok && p.sms == "" {
			p.sms = name
		}
	}
	if p.sms != "" {
		// Results of slow async calls, and one-time codes of level 2
		// flows, go out by SMS; a code is worth sending only while it
		// can be typed.
		a.gateway.Engine.Notifier = gateway.LateSMS{Send: smsNotifier{queue: p.queue, carrier: p.sms}, SMS: a.gateway.SMS}
		a.gateway.Engine.OTP = smsNotifier{queue: p.queue, carrier: p.sms, validFor: otpValidFor}
		// sms steps' texts, laid out as every SMS reply is.
		a.gateway.Engine.SMS = gateway.StepSMS{Send: smsNotifier{queue: p.queue, carrier: p.sms}, SMS: a.gateway.SMS}
		a.gateway.Engine.PINs = gateway.PINs{Store: store}
	}
	if err := a.remindSteps(p, senders); err != nil {
		_ = p.close(context.Background())
		return nil, err
	}
	return p, nil
}

// notifications mounts the institutions' notifications API.
func (a *app) notifications(e *echo.Echo, senders map[string]carrier.Sender, store sessions.Store) error {
	p := a.outbound
	tpl := a.templates.Load()
	secret, _ := a.getenv("VENTANILLA_NOTIFY_TOKENS")
	tokens, err := pairs("VENTANILLA_NOTIFY_TOKENS", secret)
	if err != nil {
		return err
	}
	routes, err := pairs("--notify-carriers", a.cfg.NotifyCarriers)
	if err != nil {
		return err
	}
	if len(routes) == 0 && p.sms != "" {
		routes = defaultRoutes(p.sms, senders)
	}
	h, err := notify.New(notify.Options{Queue: p.queue, Store: store, Records: p.records, Templates: tpl.all, Owners: tpl.owners, Tokens: tokens, Carriers: routes, Transliterate: a.cfg.SMSTranslit, Log: a.log,
		Later: reminders.Later{Store: p.later}, Observer: a.metrics, Callbacks: p.callbacks,
		Asker: notifyAsker{a.gateway.Questions}, ReplyFlows: a.replyFlows, Reminders: remindersAPI{a.bookings(p)}, Now: a.now})
	if err != nil {
		return fmt.Errorf("notifications: %w", err)
	}
	p.notices.Store(h)
	a.notifier = h
	h.Mount(e)
	return nil
}

// startCallbacks pushes events to institutions' callback URLs, keeping
// those not yet delivered beside the queue: in the queue's Redis, else
// the sessions' Redis, else in memory. Every instance pushes; a claim
// keeps two from pushing one event at once. The endpoints are read from
// the running packages at each attempt, so a reload's take over.
func (a *app) startCallbacks(p *outboundPath, store sessions.Store, runCtx context.Context) error {
	var cs callbacks.Store
	switch r, ok := sessions.Unwrap(store).(sessions.RedisBacked); {
	case p.client != nil:
		cs = callbacks.NewRedis(p.client)
	case ok:
		cs = callbacks.NewRedis(r.Client())
	default:
		m := callbacks.NewMemory(nil)
		cs = m
		a.metrics.Gauge("callbacks_pending", "Callbacks to institutions kept in memory, not yet delivered.", func() float64 { return float64(m.Len()) })
	}
	cb, err := callbacks.New(callbacks.Options{
		Store: cs,
		Endpoint: func(inst string) (callbacks.Endpoint, bool) {
			if set := a.set.Load(); set != nil {
				return set.Callback(inst)
			}
			return callbacks.Endpoint{}, false
		},
		Observer: a.metrics,
		Log:      a.log,
	})
	if err != nil {
		return err
	}
	p.callbacks = cb
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		_ = cb.Run(runCtx)
	}()
	return nil
}

// close drains the queue (within ctx) and stops its workers.
func (p *outboundPath) close(ctx context.Context) error {
	if p == nil {
		return nil
	}
	err := p.queue.Close(ctx)
	p.stopRun()
	p.done.Wait()
	if p.client != nil {
		_ = p.client.Close()
	}
	return err
}

// checkQueueDurability asks the queue's Redis whether it keeps what it is
// given across its own restart (CONFIG GET appendonly). Without the
// append-only file, a restart of Redis loses every queued message and its
// status: in production that stops the start, otherwise it is a warning.
// A Redis that cannot say (CONFIG is off on some managed services, or it
// is not up yet) is a warning in both. shared says the queue shares the
// sessions' Redis, which docs/privacy.md advises to run without
// persistence.
func (a *app) checkQueueDurability(client redis.UniversalClient, shared bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	got, err := client.ConfigGet(ctx, "appendonly").Result()
	if err != nil {
		a.log.Warn("outbound queue: cannot check that its Redis persists messages (CONFIG GET appendonly); make sure it runs with appendonly yes", "err", err)
		return nil
	}
	if got["appendonly"] == "yes" {
		return nil
	}
	problem := "the outbound queue's Redis runs without appendonly: a restart of Redis loses every queued message and its status"
	fix := "set appendonly yes on the Redis of --queue-redis-url"
	if shared {
		fix = "give the queue a Redis of its own with --queue-redis-url, with appendonly yes, and keep the sessions' Redis without persistence (see docs/operations.md)"
	}
	if a.cfg.Production {
		return fmt.Errorf("production mode: %s; %s", problem, fix)
	}
	a.log.Warn("outbound queue: "+problem, "fix", fix)
	return nil
}

// statusSink hands Twilio's delivery reports to the queue. Reports of
// replies sent inside Twilio's own webhook response are unknown to the
// queue and ignored.
type statusSink struct{ q outbound.Queue }

func (s statusSink) MarkDelivered(ctx context.Context, providerID, state string) error {
	if err := s.q.MarkDelivered(ctx, providerID, state); err != nil && !errors.Is(err, outbound.ErrNotFound) {
		return err
	}
	return nil
}

// otpValidFor is how long a one-time code is accepted after it is sent
// (the engine's code lifetime): the queue gives up on it after that.
const otpValidFor = 5 * time.Minute

// smsFailover chains the configured SMS carriers in a cycle, in order,
// each failing over to the next, so that a message one keeps failing goes
// out through another.
func smsFailover(order []string, senders map[string]carrier.Sender) map[string]string {
	var have []string
	for _, name := range order {
		if senders[name] != nil {
			have = append(have, name)
		}
	}
	if len(have) < 2 {
		return nil
	}
	out := map[string]string{}
	for i, name := range have {
		out[name] = have[(i+1)%len(have)]
	}
	return out
}

// smsNotifier sends results of slow async calls, one-time codes and sms
// steps' texts by SMS; validFor bounds how long the queue tries (0: its
// default). An sms step's text is queued under its step's key, which the
// queue takes once: a hop run again sends no second SMS.
type smsNotifier struct {
	queue    outbound.Queue
	carrier  string
	validFor time.Duration
}

func (n smsNotifier) Notify(ctx context.Context, phone, _ string, text string) error {
	// Random: ids are logged and name Redis keys, so no number in them.
	return n.enqueue(ctx, "sms_"+strings.ToLower(rand.Text()), phone, text)
}

// SendSMS queues text under an id drawn from key (a hash: no number in
// it either); the queue ignores an id it already holds.
func (n smsNotifier) SendSMS(ctx context.Context, key, phone, _ string, text string) error {
	return n.enqueue(ctx, "sms_"+key, phone, text)
}

func (n smsNotifier) enqueue(ctx context.Context, id, phone, text string) error {
	var deadline time.Time
	if n.validFor > 0 {
		deadline = time.Now().Add(n.validFor)
	}
	_, err := n.queue.Enqueue(ctx, carrier.Message{
		ID:      id,
		Channel: "sms", Carrier: n.carrier, To: phone, Text: text,
		Deadline: deadline,
	})
	return err
}

// parseRates reads "twilio=1,africastalking-sms=10".
func parseRates(s string) (map[string]float64, error) {
	out := map[string]float64{}
	kv, err := pairs("--outbound-rates", s)
	if err != nil {
		return nil, err
	}
	for k, v := range kv {
		var r float64
		if _, err := fmt.Sscanf(v, "%g", &r); err != nil || r <= 0 {
			return nil, fmt.Errorf("--outbound-rates: %s=%q is not a positive number of segments per second", k, v)
		}
		out[k] = r
	}
	return out, nil
}

// pairs reads "a=b,c=d".
func pairs(what, s string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%s: %q is not name=value", what, p)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// replyFlows are the flows a notification's answer may run: every flow
// on line but the root menu.
func (a *app) replyFlows() []string {
	reg := a.flows.Load()
	if reg == nil {
		return nil
	}
	return slices.DeleteFunc(reg.IDs(), func(id string) bool { return id == a.cfg.Root })
}
