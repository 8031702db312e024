package interop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"
)

// Errors carried in Response.Err, for logs and errors.Is; flows see only the
// Outcome.
var (
	ErrUnknownService = errors.New("unknown service")               // Unavailable
	ErrDisabled       = errors.New("service disabled")              // Unavailable
	ErrCircuitOpen    = errors.New("circuit breaker open")          // Unavailable
	ErrRateLimited    = errors.New("over the service's rate limit") // Unavailable
	ErrNoBudget       = errors.New("no time left for the call")     // Timeout
	ErrStatus         = errors.New("unexpected status")             // Error: 5xx, or 1xx/3xx that net/http passed on
	ErrTooLarge       = errors.New("response body too large")       // Error
	ErrNotJSON        = errors.New("response body is not JSON")     // Error
)

// DefaultSafetyMargin is the part of the caller's deadline a call leaves
// unused, so that the hop can still save the answer and reply to the
// citizen in time.
const DefaultSafetyMargin = 250 * time.Millisecond

// DefaultCacheSize bounds the memory the cache of all services may hold.
const DefaultCacheSize = 16 << 20

// minAttempt is the least time worth giving a request: with less left, the
// call ends in Timeout without being sent.
const minAttempt = 10 * time.Millisecond

// Client calls the services of a Registry. It is safe for concurrent use.
type Client struct {
	reg       *Registry
	protocols map[string]protocol // by Service.Kind
	services  map[string]*serviceState
	cache     *cache // nil when no service caches

	margin    time.Duration
	cacheSize int64
	now       func() time.Time
	log       *slog.Logger
	observe   func(service string, from, to CircuitState)
}

// serviceState is what a Client keeps per service between calls.
type serviceState struct {
	http    *http.Client
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	limiter *rate.Limiter // nil: no limit
}

// Option configures a Client.
type Option func(*Client)

// WithSafetyMargin sets how much of the caller's deadline a call leaves for
// the rest of the hop (default DefaultSafetyMargin). A call gets
// min(service timeout, time left − margin). The gateway keeps the default;
// the option is part of the client's API for tests and embedding programs.
func WithSafetyMargin(d time.Duration) Option {
	return func(c *Client) { c.margin = max(d, 0) }
}

// WithLogger sets where circuit breaker changes are logged (default
// slog.Default()). Calls themselves are not logged: callers log the
// Response, which redacts itself.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) { c.log = l }
}

// WithCircuitObserver calls fn on every circuit breaker change, e.g. for
// metrics. fn runs while that breaker is locked: it must be quick and must
// not call the Client.
func WithCircuitObserver(fn func(service string, from, to CircuitState)) Option {
	return func(c *Client) { c.observe = fn }
}

// WithCacheSize bounds the bytes of answers the cache holds for all
// services together (default DefaultCacheSize); the least recently used
// go first. The gateway keeps the default; the option is part of the
// client's API for tests and embedding programs.
func WithCacheSize(bytes int64) Option {
	return func(c *Client) { c.cacheSize = bytes }
}

// WithClock sets the clock that cached answers expire by (default
// time.Now). The gateway keeps the default; the option is part of the
// client's API for tests and embedding programs.
func WithClock(now func() time.Time) Option {
	return func(c *Client) { c.now = now }
}

// CircuitState is a service's circuit breaker state.
type CircuitState string

const (
	CircuitClosed   CircuitState = "closed"    // calls go through
	CircuitOpen     CircuitState = "open"      // calls are Unavailable without reaching the back-end
	CircuitHalfOpen CircuitState = "half-open" // one trial call goes through
)

// NewClient returns a Client for reg. A nil httpClient gets one that keeps
// connections to institutions alive and does not follow redirects: a
// redirect could carry a citizen's data to a host no one configured.
// Per-call deadlines come from the service's timeout and the caller's
// context, so httpClient needs no Timeout. Services with mtls get a copy of
// httpClient that presents their certificate.
func NewClient(reg *Registry, httpClient *http.Client, opts ...Option) *Client {
	if httpClient == nil {
		httpClient = defaultHTTPClient()
	}
	c := &Client{
		reg:       reg,
		protocols: make(map[string]protocol, len(protocols)),
		services:  map[string]*serviceState{},
		margin:    DefaultSafetyMargin,
		cacheSize: DefaultCacheSize,
		now:       time.Now,
		log:       slog.Default(),
	}
	for _, p := range protocols {
		c.protocols[p.kind()] = p
	}
	for _, o := range opts {
		o(c)
	}
	for _, id := range reg.IDs() {
		s, _ := reg.Lookup(id)
		st := &serviceState{http: httpClientFor(httpClient, s), breaker: c.newBreaker(s)}
		if s.Rate.PerSecond > 0 {
			st.limiter = rate.NewLimiter(rate.Limit(s.Rate.PerSecond), s.Rate.Burst)
		}
		if s.Cache > 0 && c.cache == nil {
			c.cache = newCache(c.cacheSize, c.now)
		}
		c.services[id] = st
	}
	return c
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// The gateway sends all its calls to a handful of institution hosts.
	t.MaxIdleConnsPerHost = 64
	// Headers are small; a back-end sending megabytes of them is broken
	// or hostile, and must not cost the process memory.
	t.MaxResponseHeaderBytes = 64 << 10
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Verdicts reported to a breaker: a failure counts towards opening it; an
// excluded call (the caller gave up, the params were unusable, the budget
// cut it short) says nothing about the back-end's health.
var (
	errFailure  = errors.New("back-end failure")
	errExcluded = errors.New("not the back-end's doing")
)

func (c *Client) newBreaker(s *Service) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	failures := uint32(s.Breaker.Failures)
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        s.ID,
		MaxRequests: 1, // one trial call while half-open
		Timeout:     s.Breaker.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errExcluded) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			level := slog.LevelInfo
			if to == gobreaker.StateOpen {
				level = slog.LevelWarn
			}
			c.log.LogAttrs(context.Background(), level, "interop circuit breaker",
				slog.String("service", name), slog.String("from", from.String()), slog.String("to", to.String()))
			if c.observe != nil {
				c.observe(name, CircuitState(from.String()), CircuitState(to.String()))
			}
		},
	})
}

// CircuitState returns the state of service's circuit breaker, or "" for a
// service the Client does not know.
func (c *Client) CircuitState(service string) CircuitState {
	st, ok := c.services[service]
	if !ok {
		return ""
	}
	return CircuitState(st.breaker.State().String())
}

// Call calls service with params, the call step's evaluated params. It never
// returns a Go error: every failure is an Outcome a flow can route on, with
// the reason in Response.Err.
//
// In order: a cached answer is returned if fresh; a call with less than
// its minimum time left before ctx's deadline (less the safety margin) is
// Timeout; an open circuit or a rate limit that would make the call wait
// too long is Unavailable; then the request is sent, each attempt bounded
// by min(service timeout, time left − margin), and repeated per the
// service's retry policy while time is left.
func (c *Client) Call(ctx context.Context, service string, params map[string]any) Response {
	start := time.Now()
	r := c.call(ctx, service, params)
	r.Elapsed = time.Since(start)
	return r
}

// Effects reports whether a call of service changes something at the
// back-end: every method but GET. Unknown services are taken to.
func (c *Client) Effects(service string) bool {
	s, ok := c.reg.Lookup(service)
	return !ok || s.Method != http.MethodGet
}

func (c *Client) call(ctx context.Context, id string, params map[string]any) Response {
	s, ok := c.reg.Lookup(id)
	switch {
	case !ok:
		return Response{Outcome: Unavailable, Err: fmt.Errorf("%w %q", ErrUnknownService, id)}
	case s.Disabled:
		return Response{Outcome: Unavailable, Err: fmt.Errorf("%w %q", ErrDisabled, id)}
	}
	st, okState := c.services[id]
	t, okKind := c.protocols[s.Kind]
	if !okState || !okKind {
		// The registry accepts only known kinds; this is a Client built
		// without the kind's protocol.
		return Response{Outcome: Unavailable, Err: fmt.Errorf("no protocol for kind %q", s.Kind)}
	}
	if err := ctx.Err(); err != nil {
		return failure(ctx, err) // the caller is gone already
	}

	var key string
	if s.Cache > 0 {
		k, err := t.cacheKey(ctx, s, params)
		if err != nil {
			return Response{Outcome: Error, Err: err}
		}
		if r, ok := c.cache.get(k); ok {
			return r
		}
		key = k
	}

	deadline, cut, ok := c.budget(ctx, s, 0)
	if !ok {
		return Response{Outcome: Timeout, Err: ErrNoBudget}
	}
	done, err := st.breaker.Allow()
	if err != nil {
		return Response{Outcome: Unavailable, Err: fmt.Errorf("%w: %q", ErrCircuitOpen, id)}
	}
	r, cut := c.attempts(ctx, s, st, t, params, deadline, cut)
	done(verdict(ctx, r, cut))

	if key != "" && r.Outcome == OK {
		c.cache.put(key, r, s.Cache)
	}
	return r
}

// budget returns the deadline of an attempt that starts after wait:
// min(start + s.Timeout, caller's deadline − margin). cut reports that the
// caller's deadline set it; ok is false when the attempt would have less
// than minAttempt.
func (c *Client) budget(ctx context.Context, s *Service, wait time.Duration) (deadline time.Time, cut, ok bool) {
	start := time.Now().Add(wait)
	deadline = start.Add(s.Timeout)
	if caller, has := ctx.Deadline(); has {
		limit := caller.Add(-c.margin)
		if limit.Sub(start) < minAttempt {
			return time.Time{}, false, false
		}
		if limit.Before(deadline) {
			return limit, true, true
		}
	}
	return deadline, false, true
}

// attempts sends the request, and again while the retry policy and the
// budget allow. It returns the last attempt's response and whether the
// caller's deadline cut that attempt short.
func (c *Client) attempts(ctx context.Context, s *Service, st *serviceState, t protocol,
	params map[string]any, deadline time.Time, cut bool) (Response, bool) {
	var r Response
	waits := s.Retry.waits()
	for n := 1; ; n++ {
		if err := admit(ctx, st.limiter, deadline); err != nil {
			if n > 1 {
				return r, cut // keep what the back-end last said
			}
			if errors.Is(err, ErrRateLimited) {
				return Response{Outcome: Unavailable, Err: fmt.Errorf("%w: %q", ErrRateLimited, s.ID)}, cut
			}
			return failure(ctx, err), cut
		}

		actx, cancel := context.WithDeadline(ctx, deadline)
		r = t.call(actx, st.http, s, params)
		cancel()
		r.Attempts = n

		if n >= s.Retry.Attempts || !retryable(ctx, s, r) {
			return r, cut
		}
		// Sleep only when an attempt would still fit afterwards, then give
		// it what is left from when it really starts.
		delay := min(waits.NextBackOff(), s.Retry.MaxBackoff)
		if _, _, ok := c.budget(ctx, s, delay); !ok || !sleep(ctx, delay) {
			return r, cut
		}
		next, nextCut, ok := c.budget(ctx, s, 0)
		if !ok {
			return r, cut
		}
		deadline, cut = next, nextCut
	}
}

// admit takes a token from the service's rate limiter. Over the limit, it
// waits for a token only when the wait costs the attempt at most half the
// time it has until deadline; otherwise the call is refused with
// ErrRateLimited rather than queued towards a deadline it would miss.
func admit(ctx context.Context, lim *rate.Limiter, deadline time.Time) error {
	if lim == nil {
		return nil
	}
	res := lim.Reserve()
	if !res.OK() {
		return ErrRateLimited
	}
	wait := res.Delay()
	if wait == 0 {
		return nil
	}
	if wait > time.Until(deadline)/2 {
		res.Cancel()
		return ErrRateLimited
	}
	if !sleep(ctx, wait) {
		res.Cancel()
		return ctx.Err()
	}
	return nil
}

// retryable reports whether r is worth another attempt: the service is
// idempotent, the caller is still there, and the attempt timed out, got a
// 5xx or lost its connection. Answers (2xx, 4xx), unusable params and
// bodies that are too large or not JSON would only repeat.
func retryable(ctx context.Context, s *Service, r Response) bool {
	if !s.idempotent() || ctx.Err() != nil {
		return false
	}
	switch r.Outcome {
	case Timeout:
		return true
	case Error:
		switch {
		case errors.Is(r.Err, ErrMissingParam), errors.Is(r.Err, ErrBadParam),
			errors.Is(r.Err, ErrTooLarge), errors.Is(r.Err, ErrNotJSON):
			return false
		case r.Status >= 500:
			return true
		case errors.Is(r.Err, ErrStatus):
			return false // a redirect, or another status that will not change
		}
		return true // refused, reset, or a body that broke off
	}
	return false
}

// waits is the retry policy's curve: Backoff before the second try,
// doubled before each next one, capped at MaxBackoff, each wait drawn with
// "equal jitter" (between half and all of it) so that many hops retrying
// at once spread out. It is cenkalti/backoff's ExponentialBackOff on three
// quarters of the curve, ±⅓: the same uniform draw between half and all.
func (p Retry) waits() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval:     p.Backoff * 3 / 4,
		Multiplier:          2,
		MaxInterval:         p.MaxBackoff * 3 / 4,
		RandomizationFactor: 1.0 / 3,
	}
}

// verdict tells the breaker what a call says about the back-end: answers
// (ok, not_found, rejected) are successes; errors, timeouts and X-Road
// saying the service is out of reach are failures; and a call cut short by
// the caller, or refused before sending, is excluded.
func verdict(ctx context.Context, r Response, cut bool) error {
	switch r.Outcome {
	case OK, NotFound, Rejected:
		return nil
	case Timeout:
		if cut || ctx.Err() != nil {
			return errExcluded
		}
	case Error:
		if errors.Is(r.Err, ErrMissingParam) || errors.Is(r.Err, ErrBadParam) || errors.Is(r.Err, context.Canceled) {
			return errExcluded
		}
	case Unavailable:
		if errors.Is(r.Err, ErrRateLimited) {
			return errExcluded
		}
	}
	return errFailure
}

// sleep waits for d or until ctx is done, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
