package loadgen

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Error kinds, besides "HTTP <status>" for an answer other than 200.
const (
	KindTransport  = "transport"        // no answer: refused, reset, closed
	KindTimeout    = "timeout"          // no answer in time
	KindUnexpected = "unexpected reply" // a screen the scenario does not expect, or badly framed
)

// Result is what one run measured. Latencies are in microseconds.
type Result struct {
	URL           string  `json:"url"`
	Elapsed       float64 `json:"elapsed_s"`
	Conversations int64   `json:"conversations"` // played to their end as the scenario expects
	Cut           int64   `json:"cut"`           // left unfinished when the run ended
	// Hops counts the hops answered over HTTP, whatever the answer.
	Hops          int64            `json:"hops"`
	HopsPerSecond float64          `json:"hops_per_s"`
	Latency       Latency          `json:"latency"`
	Errors        int64            `json:"errors"`
	ErrorsByKind  map[string]int64 `json:"errors_by_kind"`
	Detours       map[string]int64 `json:"detours"`
	Samples       []Sample         `json:"samples,omitempty"`
	Interrupted   bool             `json:"interrupted,omitempty"`
}

// Latency is the distribution of hop latencies, in microseconds.
type Latency struct {
	P50  int64   `json:"p50_us"`
	P90  int64   `json:"p90_us"`
	P99  int64   `json:"p99_us"`
	P999 int64   `json:"p99_9_us"`
	Max  int64   `json:"max_us"`
	Mean float64 `json:"mean_us"`
}

// Sample is one error as it happened, to show what went wrong.
type Sample struct {
	Kind    string `json:"kind"`
	Script  string `json:"script"`
	Phone   string `json:"phone"`
	Session string `json:"session"`
	Sent    string `json:"sent"` // the answers so far, joined by "*"
	Want    string `json:"want,omitempty"`
	Got     string `json:"got,omitempty"`
	Err     string `json:"err,omitempty"`
}

// Samples kept: the first few of each kind, and no more than maxSamples.
const (
	samplesPerKind = 3
	maxSamples     = 12
)

// Histogram bounds: 1 µs to 1 minute at 3 significant digits. Longer hops
// are recorded as a minute; the client gives up well before.
const (
	histMin = 1
	histMax = int64(time.Minute / time.Microsecond)
)

// tally gathers a run's counts from every worker. One mutex is enough: a
// hop costs tens of microseconds, the lock tens of nanoseconds.
type tally struct {
	mu      sync.Mutex
	hist    *hdrhistogram.Histogram
	hops    int64
	convs   int64
	cuts    int64
	errs    int64
	kinds   map[string]int64
	detours map[string]int64
	samples []Sample
}

func newTally() *tally {
	return &tally{
		hist:    hdrhistogram.New(histMin, histMax, 3),
		kinds:   map[string]int64{},
		detours: map[string]int64{},
	}
}

func (t *tally) hop(d time.Duration) {
	us := min(max(d.Microseconds(), histMin), histMax)
	t.mu.Lock()
	_ = t.hist.RecordValue(us) // within the bounds, so it cannot fail
	t.hops++
	t.mu.Unlock()
}

func (t *tally) fail(kind string, s Sample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errs++
	t.kinds[kind]++
	if t.kinds[kind] <= samplesPerKind && len(t.samples) < maxSamples {
		t.samples = append(t.samples, s)
	}
}

func (t *tally) detour(name string) {
	t.mu.Lock()
	t.detours[name]++
	t.mu.Unlock()
}

func (t *tally) conversationDone() {
	t.mu.Lock()
	t.convs++
	t.mu.Unlock()
}

func (t *tally) cut() {
	t.mu.Lock()
	t.cuts++
	t.mu.Unlock()
}

func (t *tally) progress() Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Progress{
		Hops:   t.hops,
		Errors: t.errs,
		P50:    time.Duration(t.hist.ValueAtQuantile(50)) * time.Microsecond,
		P99:    time.Duration(t.hist.ValueAtQuantile(99)) * time.Microsecond,
	}
}

func (t *tally) result(url string, elapsed time.Duration) *Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.hist
	res := &Result{
		URL:           url,
		Elapsed:       elapsed.Seconds(),
		Conversations: t.convs,
		Cut:           t.cuts,
		Hops:          t.hops,
		Errors:        t.errs,
		ErrorsByKind:  maps.Clone(t.kinds),
		Detours:       maps.Clone(t.detours),
		Samples:       slices.Clone(t.samples),
	}
	if elapsed > 0 {
		res.HopsPerSecond = float64(t.hops) / elapsed.Seconds()
	}
	if h.TotalCount() > 0 {
		res.Latency = Latency{
			P50:  h.ValueAtQuantile(50),
			P90:  h.ValueAtQuantile(90),
			P99:  h.ValueAtQuantile(99),
			P999: h.ValueAtQuantile(99.9),
			Max:  h.Max(),
			Mean: h.Mean(),
		}
	}
	return res
}
