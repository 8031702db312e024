package sms_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// FuzzSegments checks the counters against the reference encoder on
// arbitrary text, including invalid UTF-8 and control characters.
func FuzzSegments(f *testing.F) {
	f.Add(strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152))
	f.Add(strings.Repeat("a", 66) + "🙂" + strings.Repeat("b", 66))
	f.Add("\xff\xfe\x1b\f\t")
	f.Fuzz(func(t *testing.T, s string) {
		n, enc := sms.Segments(s)
		if rn, renc := refSegments(s); n != rn || enc != renc {
			t.Fatalf("Segments = %d %v, reference %d %v", n, enc, rn, renc)
		}
	})
}

// FuzzFit: whatever the text, Fit stays within its budget.
func FuzzFit(f *testing.F) {
	f.Add("Su trámite está en revisión. Le avisaremos.", 1)
	f.Add(strings.Repeat("€", 300), 2)
	f.Add(strings.Repeat("👨\u200d👩\u200d👧", 40), 1)
	f.Add("e\u0301\u0301\u0301\u0301"+strings.Repeat("\u0301", 200), 1)
	f.Add("\xff\xff  \u00a0\u00a0", 0)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < -10 || n > 10 {
			t.Skip()
		}
		if c, _ := refSegments(sms.Fit(s, n)); c > max(n, 1) {
			t.Fatalf("Fit(%d) needs %d segments", n, c)
		}
	})
}

// FuzzRender feeds arbitrary screens to the layout: it must terminate,
// keep every page within the budget and agree with Pages and Render.
func FuzzRender(f *testing.F) {
	f.Add("Elija su provincia:", "Azuay|Bolívar|Cañar", "Atrás", "Inicio", "Más", 1, false, true)
	f.Add(strings.Repeat("á", 400), "", "", "", "Más", 3, false, false)
	f.Add("Gracias.\n\n", "x", "Atrás", "", "", 1, true, true)
	f.Add("a\u00a0b\u00a0c d", strings.Repeat("ñ", 300), strings.Repeat("{", 80), "h", "🙂🙂🙂", 1, false, false)
	f.Add("\xff\xfe  \t", "\xff|", "\x00", "\n", "\xff", 0, false, true)
	f.Fuzz(func(t *testing.T, body, labels, backLabel, homeLabel, moreLabel string, maxSeg int, end, translit bool) {
		if maxSeg < -5 || maxSeg > 8 {
			t.Skip()
		}
		s := flows.Screen{Text: body, End: end}
		if labels != "" {
			for i, l := range strings.Split(labels, "|") {
				s.Options = append(s.Options, flows.Option{Key: fmt.Sprint(i + 1), Label: l})
			}
		}
		if backLabel != "" {
			s.Nav.Back = flows.Option{Key: "0", Label: backLabel}
			s.Nav.Prev = s.Nav.Back
		}
		if homeLabel != "" {
			s.Nav.Home = flows.Option{Key: "00", Label: homeLabel}
		}
		if moreLabel != "" {
			s.Nav.More = flows.Option{Key: "98", Label: moreLabel}
		}
		opts := sms.Options{Transliterate: translit, MaxSegments: maxSeg}
		budget := maxSeg
		if budget <= 0 {
			budget = sms.DefaultMaxSegments
		}
		pages := sms.Paginate(&s, opts)
		for i, p := range pages {
			if n, _ := refSegments(p); n > budget {
				t.Fatalf("page %d needs %d segments > %d: %q", i, n, budget, p)
			}
		}
		if n := sms.Pages(&s, opts); n != len(pages) || n == 0 {
			t.Fatalf("Pages = %d, Paginate gave %d", n, len(pages))
		}
		s.Page = len(pages) - 1
		if text := sms.Render(&s, opts); text != pages[len(pages)-1] {
			t.Fatalf("Render disagrees with Paginate")
		}
	})
}
