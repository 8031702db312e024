package testutil_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

func TestSleepWakesWhenTheClockPassesItsDeadline(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	sleep := testutil.Sleep(clock)
	done := make(chan error, 1)
	go func() { done <- sleep(t.Context(), time.Minute) }()
	testutil.Asleep(t, clock, 1)
	clock.Advance(time.Minute - time.Nanosecond)
	// Still asleep: the one waiter did not leave the clock.
	testutil.Asleep(t, clock, 1)
	select {
	case err := <-done:
		t.Fatalf("woke before its deadline: %v", err)
	default:
	}
	clock.Advance(time.Nanosecond)
	if err := <-done; err != nil {
		t.Fatalf("Sleep: %v, want nil at its deadline", err)
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := testutil.Sleep(clock)(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep with a cancelled context: %v, want context.Canceled", err)
	}
	if err := testutil.Sleep(clock)(t.Context(), 0); err != nil {
		t.Fatalf("Sleep(0): %v, want nil at once", err)
	}
}
