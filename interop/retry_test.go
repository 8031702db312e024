package interop

import (
	"testing"
	"time"
)

// The retry waits follow the documented curve: before try n+1, between
// half and all of backoff doubled n−1 times, capped at max_backoff, and
// spread over that whole range.
func TestRetryWaits(t *testing.T) {
	p := Retry{Attempts: 10, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	const draws = 2000
	for n := 1; n <= 7; n++ {
		d := min(p.Backoff<<(n-1), p.MaxBackoff)
		lo, hi := d, time.Duration(0)
		for range draws {
			w := p.waits()
			var wait time.Duration
			for range n {
				wait = min(w.NextBackOff(), p.MaxBackoff)
			}
			if wait < d/2-time.Microsecond || wait > d {
				t.Fatalf("wait before try %d: %v, want within [%v, %v]", n+1, wait, d/2, d)
			}
			lo, hi = min(lo, wait), max(hi, wait)
		}
		// 2,000 uniform draws all landing in one tenth of the range at
		// either end is a chance of 2·0.9^2000: none.
		if lo > d/2+d/20 || hi < d-d/20 {
			t.Errorf("waits before try %d span [%v, %v], want spread over [%v, %v]", n+1, lo, hi, d/2, d)
		}
	}
}
