// Package testutil holds helpers shared by the tests of several packages.
// Only tests import it (internal/archtest checks that).
package testutil

import (
	"testing"
	"time"
)

// WaitTimeout is how long WaitFor waits before failing the test: long
// enough for a loaded machine, and spent only when the test fails.
const WaitTimeout = 20 * time.Second

// WaitFor polls cond until it holds, and fails the test with "timed out
// waiting for <what>" when it does not within WaitTimeout. It polls every
// millisecond at first and every 20 ms after a while, so that a condition
// met at once costs almost nothing and a slow one (a Redis query) is not
// asked too often.
//
// WaitFor proves that something happens. To prove that something does
// not, wait for a later event that the earlier one would have preceded.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for pause := time.Millisecond; !cond(); pause = min(2*pause, 20*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(pause)
	}
}
