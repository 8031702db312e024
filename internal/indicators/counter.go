package indicators

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Counter takes the events of conversations on the hop and adds them to
// a Store in the background. Its Prometheus counters are labelled with
// the dims' institution, which the caller takes from the configured
// packages (never from a request), so the label's values stay few. An event costs a map increment under a
// mutex: nothing on the hop waits for the store.
type Counter struct {
	store    Store
	now      func() time.Time
	zone     *time.Location
	log      *slog.Logger
	maxCells int
	hold     func() bool

	mu      sync.Mutex
	pending map[Cell]int64
	dayEnd  time.Time // when today (in zone) ends
	today   string

	dropped atomic.Uint64

	ratings   *prometheus.CounterVec
	started   *prometheus.CounterVec
	completed *prometheus.CounterVec
	reminders *prometheus.CounterVec

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Options configure a Counter.
type Options struct {
	// Zone is where days begin and end: the offices' time zone (default
	// America/Guayaquil).
	Zone *time.Location
	// Interval is how often counts reach the store (default 5 s).
	Interval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Registerer, when set, gets Prometheus counters of ratings,
	// conversations and reminders.
	Registerer prometheus.Registerer
	Log        *slog.Logger
	// MaxCells bounds the counts kept while the store cannot take them
	// (default 100 000 cells); past it new cells are dropped and counted.
	MaxCells int
	// Hold, when it says true, keeps the counts for a later flush
	// without trying the store: its breaker is open, and nothing may
	// wait on it then.
	Hold func() bool
}

// DefaultZone is the offices' time zone unless configured.
const DefaultZone = "America/Guayaquil"

// NewCounter starts a counter adding to store; Close stops it.
func NewCounter(store Store, o Options) *Counter {
	c := &Counter{store: store, now: o.Now, zone: o.Zone, log: o.Log, maxCells: o.MaxCells, hold: o.Hold,
		pending: map[Cell]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	if c.now == nil {
		c.now = time.Now
	}
	if c.zone == nil {
		c.zone = mustZone(DefaultZone)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.maxCells <= 0 {
		c.maxCells = 100_000
	}
	c.ratings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ventanilla_ratings_total",
		Help: "Satisfaction ratings given, by institution, flow, channel and score (1–5).",
	}, []string{"institution", "flow", "channel", "score"})
	c.started = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ventanilla_conversations_started_total",
		Help: "Conversations started, by institution, flow and channel.",
	}, []string{"institution", "flow", "channel"})
	c.completed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ventanilla_tramites_completed_total",
		Help: "Conversations that reached an end step their flow counts as a completed trámite, by institution, flow and channel.",
	}, []string{"institution", "flow", "channel"})
	c.reminders = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ventanilla_reminders_total",
		Help: "Reminders sent, confirmed and cancelled by the citizen, by institution and flow.",
	}, []string{"institution", "flow", "event"})
	if o.Registerer != nil {
		o.Registerer.MustRegister(c.ratings, c.started, c.completed, c.reminders,
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "ventanilla_indicators_dropped_total",
				Help: "Indicator counts dropped because the store could not take them for too long.",
			}, func() float64 { return float64(c.dropped.Load()) }))
	}
	interval := o.Interval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	go c.run(interval)
	return c
}

// label is an institution as the metrics label it: "none" for a flow no
// institution owns, as every other metric of the gateway does.
func label(institution string) string {
	if institution == "" {
		return "none"
	}
	return institution
}

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		// The binary embeds the zone database (time/tzdata in main).
		panic("indicators: time zone " + name + ": " + err.Error())
	}
	return z
}

// Zone is where the counter's days begin and end.
func (c *Counter) Zone() *time.Location { return c.zone }

// Started counts a conversation started in d.Flow.
func (c *Counter) Started(d Dims) {
	c.add(d, MetricStarted, 1)
	c.started.WithLabelValues(label(d.Institution), d.Flow, d.Channel).Inc()
}

// End is how a conversation ended, for Ended.
type End struct {
	Completed bool   // reached an end step its flow counts as completed
	Abandoned bool   // left mid-flow, at Step
	Step      string // where it stopped
	Hops      int
	Duration  time.Duration
}

// Ended counts a conversation's end.
func (c *Counter) Ended(d Dims, e End) {
	switch {
	case e.Completed:
		c.mu.Lock()
		day := c.day()
		c.addLocked(Cell{day, d, MetricCompleted}, 1)
		if e.Hops > 0 {
			c.addLocked(Cell{day, d, MetricHops + ":" + bucket(hopBuckets, e.Hops)}, 1)
		}
		c.addLocked(Cell{day, d, MetricSeconds + ":" + bucket(secondBuckets, int(e.Duration.Seconds()+0.5))}, 1)
		c.mu.Unlock()
		c.completed.WithLabelValues(label(d.Institution), d.Flow, d.Channel).Inc()
	case e.Abandoned:
		c.add(d, MetricAbandoned+":"+e.Step, 1)
	default:
		c.add(d, MetricEnded, 1)
	}
}

// Rated counts a satisfaction rating (1–5); others are ignored.
func (c *Counter) Rated(d Dims, score int) {
	if score < 1 || score > 5 {
		return
	}
	s := strconv.Itoa(score)
	c.add(d, MetricRating+":"+s, 1)
	c.ratings.WithLabelValues(label(d.Institution), d.Flow, d.Channel, s).Inc()
}

// Reminder counts a reminder event (ReminderSent, …).
func (c *Counter) Reminder(d Dims, event string) {
	c.add(d, MetricReminder+":"+event, 1)
	c.reminders.WithLabelValues(label(d.Institution), d.Flow, event).Inc()
}

// Call counts a back-end call of service, owned by institution, and its
// outcome. The institution must be a configured one (the package that
// declares the service), never one a request named.
func (c *Counter) Call(institution, service, outcome string) {
	c.add(Dims{Institution: institution}, MetricCall+":"+service+":"+outcome, 1)
}

func (c *Counter) add(d Dims, metric string, n int64) {
	c.mu.Lock()
	c.addLocked(Cell{c.day(), d, metric}, n)
	c.mu.Unlock()
}

func (c *Counter) addLocked(cell Cell, n int64) {
	if _, ok := c.pending[cell]; !ok && len(c.pending) >= c.maxCells {
		c.dropped.Add(uint64(n))
		return
	}
	c.pending[cell] += n
}

// day is today in the counter's zone; the caller holds mu. The day's
// name is worked out once a day, not on every event.
func (c *Counter) day() string {
	now := c.now()
	if now.Before(c.dayEnd) && c.today != "" && !now.Before(c.dayEnd.AddDate(0, 0, -1)) {
		return c.today
	}
	local := now.In(c.zone)
	y, m, d := local.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, c.zone)
	c.today, c.dayEnd = start.Format(DayLayout), start.AddDate(0, 0, 1)
	return c.today
}

func (c *Counter) run(interval time.Duration) {
	defer close(c.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			c.Flush(context.Background())
		case <-c.stop:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c.Flush(ctx)
			cancel()
			return
		}
	}
}

// Flush adds the counts taken so far to the store. Counts the store
// refuses are kept for the next flush, within MaxCells.
func (c *Counter) Flush(ctx context.Context) error {
	if c.hold != nil && c.hold() {
		return ErrHeld
	}
	c.mu.Lock()
	batch := c.pending
	if len(batch) == 0 {
		c.mu.Unlock()
		return nil
	}
	c.pending = make(map[Cell]int64, len(batch))
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := c.store.Add(ctx, batch)
	if err == nil {
		return nil
	}
	c.log.Warn("indicator counts not stored; kept for the next try", "cells", len(batch), "err", err)
	c.mu.Lock()
	for cell, n := range batch {
		c.addLocked(cell, n)
	}
	c.mu.Unlock()
	return err
}

// ErrHeld: Flush did not try the store, which Options.Hold says is down.
var ErrHeld = errors.New("indicators: the store is held off; counts kept")

// Close stores what is pending and stops the counter.
func (c *Counter) Close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}
