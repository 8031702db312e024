package testutil_test

import (
	"sync/atomic"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	testutil.WaitFor(t, "the third poll", func() bool { return n.Add(1) == 3 })
	if got := n.Load(); got != 3 {
		t.Fatalf("polled %d times, want 3", got)
	}
}
