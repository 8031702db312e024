package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Percent is the GOGC that lets a heap of live bytes grow to floor before
// the next collection: (floor/live - 1) × 100, at least Go's default 100
// and at most ceiling (0: 1000).
func Percent(live, floor uint64, ceiling int) int {
	if ceiling <= 0 {
		ceiling = 1000
	}
	if live == 0 || floor <= 2*live {
		return 100
	}
	p := int((floor - live) * 100 / live) // floor/live - 1, in percent
	return min(max(p, 100), ceiling)
}

// Tuner adjusts GOGC after every collection.
type Tuner struct {
	floor   uint64
	ceiling int
	sample  []metrics.Sample
	mu      sync.Mutex
	stop    bool
	last    int
}

// Start tunes GOGC after every garbage collection until Stop, so that the
// heap may grow to floor bytes when little of it is live. ceiling bounds
// GOGC (0: 1000). It does nothing and returns nil when floor is 0 or the
// environment sets GOGC.
func Start(floor uint64, ceiling int, getenv func(string) (string, bool)) *Tuner {
	if floor == 0 {
		return nil
	}
	if _, set := getenv("GOGC"); set {
		return nil
	}
	t := &Tuner{floor: floor, ceiling: ceiling, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}, last: 100}
	t.tune()
	t.arm()
	return t
}

// sentinel is garbage on purpose: its cleanup runs after the collection
// that freed it, and arms the next.
type sentinel struct{ _ [16]byte }

func (t *Tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *Tuner) {
		t.mu.Lock()
		stop := t.stop
		t.mu.Unlock()
		if stop {
			return
		}
		t.tune()
		t.arm()
	}, t)
}

func (t *Tuner) tune() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := Percent(t.sample[0].Value.Uint64(), t.floor, t.ceiling)
	t.mu.Lock()
	defer t.mu.Unlock()
	// A change under a tenth is not worth the runtime's lock.
	if t.stop || (p*10 > t.last*9 && p*10 < t.last*11) {
		return
	}
	t.last = p
	debug.SetGCPercent(p)
}

// Current is the GOGC the tuner set last.
func (t *Tuner) Current() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// Stop ends the tuning and puts Go's default back.
func (t *Tuner) Stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.stop = true
	t.mu.Unlock()
	debug.SetGCPercent(100)
}
