package validate

import (
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// The clock in these tests is fixedClock: 23 November 2026, 22:30 in Ecuador.

func TestDate(t *testing.T) {
	runChecks(t, mustCompile(t, "date", nil), []check{
		{name: "DD/MM/YYYY/plain", in: "23/11/2026", want: "2026-11-23"},
		{name: "DD/MM/YYYY/one-digit day and month", in: "1/2/2026", want: "2026-02-01"},
		{name: "DD/MM/YYYY/dashes", in: "23-11-2026", want: "2026-11-23"},
		{name: "DD/MM/YYYY/dots", in: "23.11.2026", want: "2026-11-23"},
		{name: "DD/MM/YYYY/spaces", in: "23 11 2026", want: "2026-11-23"},
		{name: "DD/MM/YYYY/eight digits", in: "23112026", want: "2026-11-23"},
		{name: "DD/MM/YYYY/leap day", in: "29/02/2024", want: "2024-02-29"},
		{name: "DD/MM/YYYY/leap day 2000", in: "29/02/2000", want: "2000-02-29"},
		{name: "DD/MM/YYYY/31 February", in: "31/02/2026", fail: i18n.ValidateDate, data: map[string]any{"Format": "DD/MM/YYYY"}},
		{name: "DD/MM/YYYY/29 February not leap", in: "29/02/2025", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/29 February 1900", in: "29/02/1900", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/31 April", in: "31/04/2026", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/month 13", in: "23/13/2026", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/day 0", in: "00/11/2026", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/year 0", in: "01/01/0000", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/two-digit year", in: "23/11/26", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/three-digit day", in: "123/11/2026", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/ISO is the wrong order", in: "2026-11-23", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/double separator", in: "23//11/2026", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/trailing text", in: "23/11/2026x", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/seven digits", in: "2311202", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/words", in: "mañana", fail: i18n.ValidateDate},
		{name: "DD/MM/YYYY/empty", in: "", fail: i18n.ValidateRequired},
	})
	runChecks(t, mustCompile(t, "date", map[string]any{"format": "YYYY-MM-DD"}), []check{
		{name: "YYYY-MM-DD/plain", in: "2026-11-23", want: "2026-11-23"},
		{name: "YYYY-MM-DD/slashes and one digit", in: "2026/1/5", want: "2026-01-05"},
		{name: "YYYY-MM-DD/eight digits", in: "20261123", want: "2026-11-23"},
		{name: "YYYY-MM-DD/day first is wrong", in: "23-11-2026", fail: i18n.ValidateDate, data: map[string]any{"Format": "YYYY-MM-DD"}},
	})
	runChecks(t, mustCompile(t, "date", map[string]any{"format": "DDMMYYYY"}), []check{
		{name: "DDMMYYYY/plain", in: "05012027", want: "2027-01-05"},
		{name: "DDMMYYYY/with separators too", in: "5/1/2027", want: "2027-01-05"},
		{name: "DDMMYYYY/impossible", in: "30022027", fail: i18n.ValidateDate},
	})
	runChecks(t, mustCompile(t, "date", map[string]any{"format": "DD-MM-YYYY"}), []check{
		{name: "DD-MM-YYYY/plain", in: "23-11-2026", want: "2026-11-23"},
	})
}

func TestDateBounds(t *testing.T) {
	appointment := mustCompile(t, "date", map[string]any{"min": "today", "max": "today+30d"})
	window := map[string]any{"Format": "DD/MM/YYYY", "Min": "23/11/2026", "Max": "23/12/2026"}
	runChecks(t, appointment, []check{
		{name: "appointment/today in Ecuador", in: "23/11/2026", want: "2026-11-23"},
		{name: "appointment/last day", in: "23/12/2026", want: "2026-12-23"},
		{name: "appointment/yesterday", in: "22/11/2026", fail: i18n.ValidateDate, data: window},
		{name: "appointment/one day late", in: "24/12/2026", fail: i18n.ValidateDate, data: window},
	})
	adult := mustCompile(t, "date", map[string]any{"max": "today-18y"})
	runChecks(t, adult, []check{
		{name: "adult/18 today", in: "23/11/2008", want: "2008-11-23"},
		{name: "adult/18 tomorrow", in: "24/11/2008", fail: i18n.ValidateDate, data: map[string]any{"Format": "DD/MM/YYYY", "Max": "23/11/2008"}},
		{name: "adult/long ago", in: "01/01/1930", want: "1930-01-01"},
	})
	year := mustCompile(t, "date", map[string]any{"format": "YYYY-MM-DD", "min": "2026-01-01", "max": "2026-12-31"})
	runChecks(t, year, []check{
		{name: "absolute/first", in: "2026-01-01", want: "2026-01-01"},
		{name: "absolute/last", in: "2026-12-31", want: "2026-12-31"},
		{name: "absolute/before, bounds in the citizen's format", in: "2025-12-31", fail: i18n.ValidateDate,
			data: map[string]any{"Format": "YYYY-MM-DD", "Min": "2026-01-01", "Max": "2026-12-31"}},
	})
	months := mustCompile(t, "date", map[string]any{"format": "DDMMYYYY", "min": "today-1m", "max": "today + 1m"})
	runChecks(t, months, []check{
		{name: "months/one month back", in: "23102026", want: "2026-10-23"},
		{name: "months/too far", in: "24122026", fail: i18n.ValidateDate, data: map[string]any{"Format": "DDMMYYYY", "Min": "23102026", "Max": "23122026"}},
	})
}

func TestDateBoundsMoveWithTheClock(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC))
	v, err := CompileWithClock(Spec{Kind: "date", Args: map[string]any{"min": "today"}}, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, f := v.Check("31/01/2026"); f != nil {
		t.Fatalf("today rejected: %v", f)
	}
	clock.Advance(24 * time.Hour)
	if _, f := v.Check("31/01/2026"); f == nil {
		t.Fatal("yesterday accepted after the clock moved")
	}
}

func TestParseDateBound(t *testing.T) {
	for _, c := range []struct {
		in   string
		ok   bool
		want civil // resolved against fixedClock
	}{
		{"today", true, 20261123},
		{"today+30d", true, 20261223},
		{"today-18y", true, 20081123},
		{"today+1m", true, 20261223},
		{"today-0d", true, 20261123},
		{"2026-02-28", true, 20260228},
		{"2026-02-30", false, 0},
		{"tomorrow", false, 0},
		{"today+", false, 0},
		{"today+d", false, 0},
		{"today+5", false, 0},
		{"today+5w", false, 0},
		{"today*5d", false, 0},
		{"today+-5d", false, 0},
		{"today+999999999d", false, 0},
		{"31/12/2026", false, 0},
		{"", false, 0},
	} {
		t.Run(c.in, func(t *testing.T) {
			b, ok := parseDateBound(c.in)
			if ok != c.ok {
				t.Fatalf("parseDateBound(%q) ok = %v, want %v", c.in, ok, c.ok)
			}
			if ok && b.resolve(fixedNow.Date) != c.want {
				t.Fatalf("parseDateBound(%q) resolves to %d, want %d", c.in, b.resolve(fixedNow.Date), c.want)
			}
		})
	}
}

func BenchmarkDateCheck(b *testing.B) {
	v := mustCompile(b, "date", map[string]any{"min": "today", "max": "today+60d"})
	b.ReportAllocs()
	for b.Loop() {
		v.Check("15/12/2026")
	}
}

func FuzzDate(f *testing.F) {
	for _, s := range []string{"23/11/2026", "1/2/2026", "29/02/2024", "31/02/2026", "23112026", "2026-11-23", "9/9/9999", "//", ""} {
		f.Add(s, uint8(0))
	}
	var vs []Validator
	for _, df := range dateFormats {
		vs = append(vs, mustCompile(f, "date", map[string]any{"format": df.name, "min": "today-200y", "max": "today+5y"}))
	}
	f.Fuzz(func(t *testing.T, in string, format uint8) {
		got, fail := vs[int(format)%len(vs)].Check(in)
		if fail != nil {
			return
		}
		s, _ := got.(string)
		d, err := time.Parse(time.DateOnly, s)
		if err != nil || d.Format(time.DateOnly) != s {
			t.Fatalf("Check(%q) = %#v, not an ISO date", in, got)
		}
		if s < "1826-11-23" || s > "2031-11-23" {
			t.Fatalf("Check(%q) = %s, outside the bounds", in, s)
		}
	})
}
