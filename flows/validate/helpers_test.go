package validate

import (
	"reflect"
	"testing"
	"time"
)

// check is one answer and what a validator should make of it: the value
// saved, or the message id of the failure.
type check struct {
	name string
	in   string
	want any    // saved value when fail is ""
	fail string // message id
	data map[string]any
}

func mustCompile(t testing.TB, kind string, args map[string]any) Validator {
	t.Helper()
	v, err := CompileWithClock(Spec{Kind: kind, Args: args}, fixedClock)
	if err != nil {
		t.Fatalf("Compile(%s, %v): %v", kind, args, err)
	}
	return v
}

// fixedClock is 23 November 2026, 22:30 in Ecuador: already the 24th in UTC,
// so a validator that read "today" in UTC would be off by one.
func fixedClock() time.Time { return fixedNow }

var fixedNow = time.Date(2026, 11, 23, 22, 30, 0, 0, time.FixedZone("ECT", -5*3600))

func runChecks(t *testing.T, v Validator, cases []check) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, f := v.Check(c.in)
			if c.fail != "" {
				if f == nil {
					t.Fatalf("Check(%q) = %#v, want failure %s", c.in, got, c.fail)
				}
				if f.MessageID != c.fail {
					t.Fatalf("Check(%q) failed with %s, want %s", c.in, f.MessageID, c.fail)
				}
				if c.data != nil && !reflect.DeepEqual(f.Data, c.data) {
					t.Fatalf("Check(%q) failure data = %#v, want %#v", c.in, f.Data, c.data)
				}
				if got != nil {
					t.Fatalf("Check(%q) failed but also returned %#v", c.in, got)
				}
				return
			}
			if f != nil {
				t.Fatalf("Check(%q) failed with %s %v, want %#v", c.in, f.MessageID, f.Data, c.want)
			}
			if got != c.want {
				t.Fatalf("Check(%q) = %#v (%T), want %#v (%T)", c.in, got, got, c.want, c.want)
			}
		})
	}
}
