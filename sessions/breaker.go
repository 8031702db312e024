package sessions

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// ErrUnavailable: the breaker in front of a store is open — the store was
// failing moments ago — so the call was not tried. It comes back at once,
// without waiting for the store's timeouts.
var ErrUnavailable = errors.New("sessions: store unavailable")

// BreakerOptions configures NewBreaker. Zero values select the defaults.
type BreakerOptions struct {
	// Name names the dependency in logs ("sessions", "outbound queue").
	Name string
	// Failures is how many calls in a row must fail to open the breaker
	// (default 3).
	Failures int
	// OpenFor is how long the breaker stays open before it probes the
	// store again, and between probes while they fail (default 1s).
	OpenFor time.Duration
	// Probe asks the store whether it is back (a Redis PING). Required.
	Probe func(ctx context.Context) error
	// ProbeTimeout bounds one probe (default 1s).
	ProbeTimeout time.Duration
	// SlowCall: a call that outlives its caller's deadline counts as a
	// failure if it was given at least this long (default 250ms), and as
	// nothing otherwise: a hop whose budget a slow back-end ate leaves the
	// store little time, and that is not the store's fault.
	SlowCall time.Duration
	// OnStateChange, when set, hears every change: "closed", "open" or
	// "half-open". It runs under the breaker's lock: it must not block.
	OnStateChange func(from, to string)
	Log           *slog.Logger
}

// Breaker is a circuit breaker for a store shared by every caller of one
// dependency (the session store and the outbound queue on one Redis). After
// Failures failures in a row it opens: calls fail with ErrUnavailable
// without touching the store, so a hop answers "service unavailable" at
// once instead of waiting out the store's timeouts. While it is open, a
// probe of its own — never a citizen's hop — asks the store every OpenFor
// whether it is back; the first probe that succeeds closes it.
//
// Outcomes that are answers (ErrNotFound, ErrConflict, ErrFull) count as
// successes, except answers from a local copy (Record.Local), which say
// nothing of the store. A call cancelled by its caller counts as neither,
// and so does one that ran out of its caller's deadline having been given
// less than SlowCall; one given more that still did not finish is a
// failure — a store that hangs must open the breaker too.
type Breaker struct {
	cb      *gobreaker.TwoStepCircuitBreaker[struct{}]
	opts    BreakerOptions
	mu      sync.Mutex // orders starting the prober with Close
	stop    chan struct{}
	closed  bool
	probing sync.WaitGroup
	running atomic.Bool // a prober goroutine is on
}

// errExcluded marks a call whose outcome says nothing of the store's health.
var errExcluded = errors.New("not the store's doing")

// NewBreaker returns a closed breaker. Close stops its probe.
func NewBreaker(opts BreakerOptions) *Breaker {
	if opts.Failures <= 0 {
		opts.Failures = 3
	}
	if opts.OpenFor <= 0 {
		opts.OpenFor = time.Second
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = time.Second
	}
	if opts.SlowCall <= 0 {
		opts.SlowCall = 250 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Name == "" {
		opts.Name = "sessions"
	}
	b := &Breaker{opts: opts, stop: make(chan struct{})}
	failures := uint32(opts.Failures)
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        opts.Name,
		MaxRequests: 1, // the probe
		Timeout:     opts.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errExcluded) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			level := slog.LevelInfo
			if to == gobreaker.StateOpen {
				level = slog.LevelWarn
				b.startProbing()
			}
			b.opts.Log.LogAttrs(context.Background(), level, "store circuit breaker",
				slog.String("store", name), slog.String("from", from.String()), slog.String("to", to.String()))
			if b.opts.OnStateChange != nil {
				b.opts.OnStateChange(from.String(), to.String())
			}
		},
	})
	return b
}

// State is "closed", "open" or "half-open" (a probe is running).
func (b *Breaker) State() string {
	return b.cb.State().String()
}

// Open reports whether calls are being refused: open, or half-open while
// the probe runs.
func (b *Breaker) Open() bool {
	return b.cb.State() != gobreaker.StateClosed
}

// Do runs call through the breaker: at once ErrUnavailable while it is
// open, else call's own error.
func (b *Breaker) Do(ctx context.Context, call func(context.Context) error) error {
	return b.do(ctx, call, nil)
}

// do is Do; a call that sets *local answered from a local copy.
func (b *Breaker) do(ctx context.Context, call func(context.Context) error, local *bool) error {
	// Checked before Allow so that a hop never takes the half-open slot:
	// that slot is the probe's, and a hop holding it would wait out the
	// store's timeout.
	if b.Open() {
		return ErrUnavailable
	}
	done, err := b.cb.Allow()
	if err != nil {
		return ErrUnavailable
	}
	given := time.Duration(1<<63 - 1)
	if dl, ok := ctx.Deadline(); ok {
		given = time.Until(dl)
	}
	err = call(ctx)
	if local != nil && *local {
		done(errExcluded)
	} else {
		done(b.verdict(ctx, err, given))
	}
	return err
}

// verdict maps a call's error to what the breaker counts.
func (b *Breaker) verdict(ctx context.Context, err error, given time.Duration) error {
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict), errors.Is(err, ErrFull):
		return nil
	case errors.Is(ctx.Err(), context.Canceled):
		return errExcluded
	case ctx.Err() != nil && given < b.opts.SlowCall:
		return errExcluded
	}
	return err
}

// startProbing starts the prober unless it is on. It runs only while the
// breaker is not closed, so an idle breaker holds no goroutine.
func (b *Breaker) startProbing() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed && b.running.CompareAndSwap(false, true) {
		b.probing.Add(1)
		go b.prober()
	}
}

// prober probes the store every OpenFor until a probe succeeds.
func (b *Breaker) prober() {
	defer b.probing.Done()
	for {
		for b.cb.State() != gobreaker.StateClosed {
			t := time.NewTimer(b.opts.OpenFor)
			select {
			case <-b.stop:
				t.Stop()
				b.running.Store(false)
				return
			case <-t.C:
			}
			b.probe()
		}
		b.running.Store(false)
		// Opened again between the last look and the flag going down:
		// that opening saw the flag up and left the probing to us.
		// State is read outside b.mu: the breaker calls startProbing
		// under its own lock, which must never wait for b.mu's holder.
		open := b.cb.State() != gobreaker.StateClosed
		b.mu.Lock()
		again := open && !b.closed && b.running.CompareAndSwap(false, true)
		b.mu.Unlock()
		if !again {
			return
		}
	}
}

// probe is the half-open state's one trial call.
func (b *Breaker) probe() {
	done, err := b.cb.Allow()
	if err != nil {
		return // not due yet
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.ProbeTimeout)
	defer cancel()
	err = b.opts.Probe(ctx)
	if err != nil {
		b.opts.Log.Debug("store still unavailable", "store", b.opts.Name, "err", err)
	}
	done(err)
}

// Close stops the probe, if one runs. Calling it more than once is
// harmless.
func (b *Breaker) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.stop)
	}
	b.mu.Unlock()
	b.probing.Wait()
}

// Wrap returns s behind the breaker. What s can do beyond Store
// (MultiGetter, Verifier; Watcher with Verifier, as Near) the wrapper can
// do too, through the breaker.
// Closing the wrapper closes s, not the breaker, which may guard others.
func (b *Breaker) Wrap(s Store) Store {
	base := guarded{b: b, s: s}
	mg, isMG := s.(MultiGetter)
	v, isV := s.(Verifier)
	w, isW := s.(Watcher)
	switch {
	case isV && isW && !isMG: // Near
		return struct {
			guarded
			guardedVerify
			guardedWatch
		}{base, guardedVerify{b, v}, guardedWatch{b, w}}
	case isMG && isV:
		return struct {
			guarded
			guardedMulti
			guardedVerify
		}{base, guardedMulti{b, mg}, guardedVerify{b, v}}
	case isMG:
		return struct {
			guarded
			guardedMulti
		}{base, guardedMulti{b, mg}}
	case isV:
		return struct {
			guarded
			guardedVerify
		}{base, guardedVerify{b, v}}
	}
	return base
}

type guarded struct {
	b *Breaker
	s Store
}

var _ Store = guarded{}

func (g guarded) Get(ctx context.Context, key string) (rec Record, err error) {
	var local bool
	err = g.b.do(ctx, func(ctx context.Context) error {
		rec, err = g.s.Get(ctx, key)
		local = rec.Local
		return err
	}, &local)
	return rec, err
}

func (g guarded) Put(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration) (n uint64, err error) {
	err = g.b.Do(ctx, func(ctx context.Context) error {
		n, err = g.s.Put(ctx, key, data, rev, ttl)
		return err
	})
	return n, err
}

func (g guarded) Set(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	return g.b.Do(ctx, func(ctx context.Context) error { return g.s.Set(ctx, key, data, ttl) })
}

func (g guarded) Delete(ctx context.Context, key string) error {
	return g.b.Do(ctx, func(ctx context.Context) error { return g.s.Delete(ctx, key) })
}

// Ping answers ErrUnavailable at once while the breaker is open, so that
// a readiness check reports the store down as soon as hops see it down.
func (g guarded) Ping(ctx context.Context) error {
	return g.b.Do(ctx, g.s.Ping)
}

func (g guarded) Close() error { return g.s.Close() }

// Unwrap returns the store behind the breaker.
func (g guarded) Unwrap() Store { return g.s }

// Unwrap returns the store s guards when s is a store behind a breaker,
// else s: what a caller that needs the store itself (its Redis client)
// asks for.
func Unwrap(s Store) Store {
	if u, ok := s.(interface{ Unwrap() Store }); ok {
		return u.Unwrap()
	}
	return s
}

type guardedMulti struct {
	b  *Breaker
	mg MultiGetter
}

func (g guardedMulti) GetMulti(ctx context.Context, keys ...string) (recs []Record, err error) {
	err = g.b.Do(ctx, func(ctx context.Context) error {
		recs, err = g.mg.GetMulti(ctx, keys...)
		return err
	})
	return recs, err
}

type guardedVerify struct {
	b *Breaker
	v Verifier
}

func (g guardedVerify) Verify(ctx context.Context, key string, rev uint64) error {
	return g.b.Do(ctx, func(ctx context.Context) error { return g.v.Verify(ctx, key, rev) })
}

type guardedWatch struct {
	b *Breaker
	w Watcher
}

// GetWatched answered from the local copy does not count for the breaker.
func (g guardedWatch) GetWatched(ctx context.Context, key, watch string) (rec, watched Record, err error) {
	var local bool
	err = g.b.do(ctx, func(ctx context.Context) error {
		rec, watched, err = g.w.GetWatched(ctx, key, watch)
		local = rec.Local
		return err
	}, &local)
	return rec, watched, err
}

func (g guardedWatch) PutWatched(ctx context.Context, key string, data []byte, rev uint64, ttl time.Duration, watch string, watched Record) (n uint64, err error) {
	err = g.b.Do(ctx, func(ctx context.Context) error {
		n, err = g.w.PutWatched(ctx, key, data, rev, ttl, watch, watched)
		return err
	})
	return n, err
}

func (g guardedWatch) VerifyWatched(ctx context.Context, key string, rev uint64, watch string, watchRev uint64) error {
	return g.b.Do(ctx, func(ctx context.Context) error { return g.w.VerifyWatched(ctx, key, rev, watch, watchRev) })
}
