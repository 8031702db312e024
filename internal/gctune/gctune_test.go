package gctune

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name        string
		live, floor uint64
		max, want   int
	}{
		{"a small heap grows to the floor", 8 * mb, 64 * mb, 0, 700},
		{"capped", 1 * mb, 64 * mb, 0, 1000},
		{"capped lower", 1 * mb, 64 * mb, 400, 400},
		{"half the floor: Go's default", 32 * mb, 64 * mb, 0, 100},
		{"above the floor: Go's default", 141 * mb, 64 * mb, 0, 100},
		{"no heap yet", 0, 64 * mb, 0, 100},
		{"never under 100", 30 * mb, 64 * mb, 0, 113},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percent(tt.live, tt.floor, tt.max); got != tt.want {
				t.Errorf("Percent(%d MB, %d MB, %d) = %d, want %d", tt.live/mb, tt.floor/mb, tt.max, got, tt.want)
			}
		})
	}
}

func noEnv(string) (string, bool) { return "", false }

// After collections with a small live heap, GOGC is raised so the heap
// may reach the floor; Stop puts Go's default back.
func TestTunerRaisesGOGCForASmallHeap(t *testing.T) {
	tuner := Start(256<<20, 0, noEnv)
	defer tuner.Stop()
	testutil.WaitFor(t, "GOGC raised after collections of a test's small heap", func() bool {
		if tuner.Current() > 100 {
			return true
		}
		runtime.GC()
		return false
	})
	if got := debug.SetGCPercent(-1); got != tuner.Current() {
		t.Errorf("runtime GOGC %d, tuner says %d", got, tuner.Current())
	}
	tuner.Stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after Stop: %d, want 100", got)
	}
}

// A GOGC set by the operator is theirs.
func TestTunerLeavesAnOperatorsGOGC(t *testing.T) {
	env := func(name string) (string, bool) { return "200", name == "GOGC" }
	if tuner := Start(64<<20, 0, env); tuner != nil {
		tuner.Stop()
		t.Fatal("tuner started although GOGC is set")
	}
	if tuner := Start(0, 0, noEnv); tuner != nil {
		tuner.Stop()
		t.Fatal("tuner started with no floor")
	}
}
