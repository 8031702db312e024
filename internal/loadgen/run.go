package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one run against one target.
type Config struct {
	URL         string // the target's scheme and host, e.g. http://127.0.0.1:8080
	Carrier     Carrier
	Scenario    Scenario
	ServiceCode string // dialled code (default *384#)
	Citizens    int    // distinct callers; each runs one conversation at a time
	Concurrency int    // conversations in flight at once (at most Citizens)
	// Duration bounds the run: no hop starts after it, and hops still in
	// flight a second later are abandoned. Required, even with Sessions.
	Duration time.Duration
	// Sessions stops the run after this many conversations (0: run for
	// Duration). An errand's scripts are not split, so it may run over by
	// the length of the longest errand less one.
	Sessions int
	// Rate paces hops at this many per second over all workers, on a fixed
	// schedule (open loop); a hop sent late because earlier replies were
	// slow counts its latency from when it was due, so that delay is not
	// hidden. 0 sends every hop as soon as the previous one is answered
	// (closed loop).
	Rate   float64
	Client *http.Client
	// Blind sends the scripts' answers without reading the screens beyond
	// their framing: the baseline answers the same screen to every hop.
	Blind bool
	// Progress, when set, is called about once a second while the run lasts.
	Progress func(Progress)
	// Seed picks the errands of a mixed scenario.
	Seed uint64
	// Redial is how long a citizen whose conversation failed waits
	// before dialling again, as a person would (0: at once). Without it
	// a gateway that answers at once with an error ("service
	// unavailable", "too many attempts") gets its citizens' redials as
	// fast as it answers.
	Redial time.Duration
}

// Progress is a run so far.
type Progress struct {
	Elapsed  time.Duration
	Hops     int64
	Rate     float64 // hops per second since the previous report
	Errors   int64
	P50, P99 time.Duration
}

// grace is how long hops in flight at the end of Duration may still take.
const grace = time.Second

// maxBody bounds a reply read; USSD screens are a few hundred bytes.
const maxBody = 64 << 10

// Run plays cfg.Scenario against cfg.URL and returns what it measured. A
// cancelled ctx ends the run early with what was measured so far.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := newRunner(cfg)
	start := time.Now()
	r.deadline = start.Add(cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, r.deadline.Add(grace))
	defer cancel()
	if cfg.Rate > 0 {
		r.pace = newPacer(start, cfg.Rate)
	}

	var wg sync.WaitGroup
	for w := range r.workers {
		wg.Go(func() { r.worker(runCtx, w) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if cfg.Progress != nil {
		r.report(start, done)
	}
	<-done
	elapsed := time.Since(start)
	cfg.Client.CloseIdleConnections()
	res := r.tally.result(cfg.URL, elapsed)
	res.Interrupted = ctx.Err() != nil
	return res, nil
}

func (cfg *Config) check() error {
	switch {
	case cfg.Carrier == nil:
		return errors.New("no carrier")
	case cfg.Client == nil:
		return errors.New("no HTTP client")
	case !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://"):
		return fmt.Errorf("url %q: want http://host:port", cfg.URL)
	case cfg.Citizens < 1 || cfg.Citizens > MaxCitizens:
		return fmt.Errorf("citizens: %d, want 1 to %d", cfg.Citizens, MaxCitizens)
	case cfg.Concurrency < 1:
		return fmt.Errorf("concurrency: %d, want at least 1", cfg.Concurrency)
	case cfg.Duration <= 0:
		return errors.New("duration: want a positive bound on the run")
	case cfg.Sessions < 0:
		return fmt.Errorf("sessions: %d, want 0 (no limit) or more", cfg.Sessions)
	case cfg.Rate < 0:
		return fmt.Errorf("rate: %g, want 0 (closed loop) or more", cfg.Rate)
	}
	if cfg.ServiceCode == "" {
		cfg.ServiceCode = "*384#"
	}
	return cfg.Scenario.Validate()
}

type runner struct {
	cfg      Config
	workers  int
	deadline time.Time
	pace     *pacer
	runID    string
	claimed  atomic.Int64
	weights  int
	tally    *tally
}

func newRunner(cfg Config) *runner {
	r := &runner{
		cfg:     cfg,
		workers: min(cfg.Concurrency, cfg.Citizens),
		runID:   "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		tally:   newTally(),
	}
	for _, e := range cfg.Scenario.Errands {
		r.weights += e.Weight
	}
	return r
}

// worker runs the errands of its own citizens (every workers-th one), in
// turn, so that no citizen is in two conversations at once: the gateway
// keeps one conversation per phone number.
func (r *runner) worker(ctx context.Context, w int) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(w)))
	var mine []Citizen
	for i := w; i < r.cfg.Citizens; i += r.workers {
		mine = append(mine, NewCitizen(i))
	}
	for n := 0; r.more(ctx); n++ {
		errand := r.pick(rng)
		if !r.claim(len(errand.Scripts)) {
			return
		}
		c := mine[n%len(mine)]
		for k, s := range errand.Scripts {
			cv := conversation{r: r, c: c, script: s, session: fmt.Sprintf("%s-%d-%d-%d", r.runID, w, n, k)}
			if out := cv.play(ctx); out == stopped {
				return
			} else if out == failed {
				sleep(ctx, r.cfg.Redial)
				break
			}
		}
	}
}

// more reports whether a new errand may start.
func (r *runner) more(ctx context.Context) bool {
	return ctx.Err() == nil && time.Now().Before(r.deadline)
}

// claim takes n conversations from the Sessions allowance.
func (r *runner) claim(n int) bool {
	if r.cfg.Sessions == 0 {
		return true
	}
	return r.claimed.Add(int64(n))-int64(n) < int64(r.cfg.Sessions)
}

func (r *runner) pick(rng *rand.Rand) Errand {
	errands := r.cfg.Scenario.Errands
	k := rng.IntN(r.weights)
	for _, e := range errands {
		if k < e.Weight {
			return e
		}
		k -= e.Weight
	}
	return errands[len(errands)-1]
}

// report calls Progress every second until done.
func (r *runner) report(start time.Time, done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	lastAt := start
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			p := r.tally.progress()
			p.Elapsed = now.Sub(start)
			p.Rate = float64(p.Hops-last) / now.Sub(lastAt).Seconds()
			last, lastAt = p.Hops, now
			r.cfg.Progress(p)
		}
	}
}

// pacer hands out hop start times on a fixed schedule shared by all
// workers: hop k is due perHop×k after start, whoever sends it.
type pacer struct {
	start  time.Time
	perHop float64 // nanoseconds
	next   atomic.Int64
}

// newPacer returns the schedule of rate hops per second from start.
func newPacer(start time.Time, rate float64) *pacer {
	return &pacer{start: start, perHop: float64(time.Second) / rate}
}

// wait takes the next hop on the schedule, sleeps until it is due, and
// returns when its latency counts from; false if it is due after deadline
// or ctx ends first.
//
// A worker already late (its previous hops were slow) counts from when the
// hop was due, so the delay the target caused is not hidden. A worker that
// slept counts from when it woke: the timer's lateness is the client's.
func (p *pacer) wait(ctx context.Context, deadline time.Time) (time.Time, bool) {
	k := p.next.Add(1) - 1
	due := p.start.Add(time.Duration(float64(k) * p.perHop))
	if !due.Before(deadline) {
		return due, false
	}
	d := time.Until(due)
	if d <= 0 {
		return due, true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return time.Now(), true
	case <-ctx.Done():
		return due, false
	}
}

type outcome int

const (
	ok      outcome = iota
	failed          // counted as an error
	stopped         // the run ended; not an error
)

// conversation is one script played in one session.
type conversation struct {
	r       *runner
	c       Citizen
	script  Script
	session string
	inputs  []string
	sent    int
}

func (cv *conversation) play(ctx context.Context) outcome {
	out := cv.steps(ctx)
	switch {
	case out == ok:
		cv.r.tally.conversationDone()
	case out == stopped && cv.sent > 0:
		cv.r.tally.cut()
	}
	return out
}

func (cv *conversation) steps(ctx context.Context) outcome {
	for i, st := range cv.script.Steps {
		screen, out := cv.send(ctx, cv.c.fill(st.Send), i == 0)
		if out != ok {
			return out
		}
		if cv.r.cfg.Blind {
			continue
		}
		detours := cv.script.Detours
		if i == 0 {
			detours = slices.Concat(cv.script.Opening, detours)
		}
		for taken := 0; !cv.matches(st, screen); taken++ {
			d, found := detour(detours, screen)
			if !found || taken == maxDetours {
				cv.r.tally.fail(KindUnexpected, cv.sample(KindUnexpected, cv.want(st), screenText(screen), ""))
				return failed
			}
			cv.r.tally.detour(d.Name)
			if screen, out = cv.send(ctx, cv.c.fill(d.Send), false); out != ok {
				return out
			}
		}
	}
	return ok
}

func (cv *conversation) matches(st Step, s Screen) bool {
	if s.End != st.End {
		return false
	}
	for _, f := range st.Expect {
		if !strings.Contains(s.Text, cv.c.fill(f)) {
			return false
		}
	}
	return true
}

func detour(list []Detour, s Screen) (Detour, bool) {
	if s.End {
		return Detour{}, false
	}
	for _, d := range list {
		if strings.Contains(s.Text, d.When) {
			return d, true
		}
	}
	return Detour{}, false
}

func (cv *conversation) want(st Step) string {
	prefix := "CON"
	if st.End {
		prefix = "END"
	}
	var quoted []string
	for _, f := range st.Expect {
		quoted = append(quoted, strconv.Quote(cv.c.fill(f)))
	}
	return prefix + " with " + strings.Join(quoted, " and ")
}

func screenText(s Screen) string {
	if s.End {
		return "END " + s.Text
	}
	return "CON " + s.Text
}

// send makes one hop: the dial when dial is set, else the answer.
func (cv *conversation) send(ctx context.Context, answer string, dial bool) (Screen, outcome) {
	r := cv.r
	if !dial {
		cv.inputs = append(cv.inputs, answer)
	}
	at := time.Now()
	if r.pace != nil {
		due, onTime := r.pace.wait(ctx, r.deadline)
		if !onTime {
			return Screen{}, stopped
		}
		at = due
	} else if !at.Before(r.deadline) || ctx.Err() != nil {
		return Screen{}, stopped
	}
	req, err := r.cfg.Carrier.Request(ctx, r.cfg.URL, Hop{Session: cv.session, Phone: cv.c.Phone, ServiceCode: r.cfg.ServiceCode, Inputs: cv.inputs})
	if err != nil {
		r.tally.fail(KindTransport, cv.sample(KindTransport, "", "", err.Error()))
		return Screen{}, failed
	}
	cv.sent++
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Screen{}, stopped
		}
		kind := transportKind(err)
		r.tally.fail(kind, cv.sample(kind, "", "", err.Error()))
		// A refused connection fails at once; without a pause every worker
		// would spin on it.
		sleep(ctx, 50*time.Millisecond)
		return Screen{}, failed
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if err != nil {
		if ctx.Err() != nil {
			return Screen{}, stopped
		}
		kind := transportKind(err)
		r.tally.fail(kind, cv.sample(kind, "", "", "reading the reply: "+err.Error()))
		return Screen{}, failed
	}
	r.tally.hop(time.Since(at))
	if resp.StatusCode != http.StatusOK {
		kind := fmt.Sprintf("HTTP %d", resp.StatusCode)
		r.tally.fail(kind, cv.sample(kind, "200", excerpt(string(body)), ""))
		return Screen{}, failed
	}
	screen, err := r.cfg.Carrier.Reply(body)
	if err != nil {
		r.tally.fail(KindUnexpected, cv.sample(KindUnexpected, "a reply framed for "+r.cfg.Carrier.Name(), excerpt(string(body)), err.Error()))
		return Screen{}, failed
	}
	return screen, ok
}

func (cv *conversation) sample(kind, want, got, err string) Sample {
	return Sample{
		Kind:    kind,
		Script:  cv.script.Name,
		Phone:   cv.c.Phone,
		Session: cv.session,
		Sent:    strings.Join(cv.inputs, "*"),
		Want:    want,
		Got:     excerpt(got),
		Err:     err,
	}
}

// transportKind tells a timeout from other failures to get an answer.
func transportKind(err error) string {
	if ne, isNet := errors.AsType[net.Error](err); isNet && ne.Timeout() {
		return KindTimeout
	}
	return KindTransport
}

func excerpt(s string) string {
	const max = 240
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
