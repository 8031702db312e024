package chat_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/channels/chat"
	"github.com/ventanilla-gob/ventanilla/flows"
)

const propertyCases = 3000

var words = []string{"Señor", "cédula", "trámite", "día", "Ñukanchik", "kawsay", "shunku",
	"wasikunapi", "€25", "{x}", "🙂", "👍🏽", "12\u00a0345", "información", "turno"}

func randScreen(r *rand.Rand) flows.Screen {
	var body strings.Builder
	for i := range r.IntN(60) {
		if i > 0 {
			body.WriteString([]string{" ", " ", " ", "\n", "  "}[r.IntN(5)])
		}
		if r.IntN(30) == 0 {
			body.WriteString(strings.Repeat("x", 20+r.IntN(80))) // longer than small MaxText
		} else {
			body.WriteString(words[r.IntN(len(words))])
		}
	}
	s := flows.Screen{Text: body.String(), End: r.IntN(8) == 0}
	for i := range r.IntN(60) {
		label := words[r.IntN(len(words))]
		for range r.IntN(12) {
			label += " " + words[r.IntN(len(words))]
		}
		s.Options = append(s.Options, flows.Option{Key: fmt.Sprint(i + 1), Label: label})
	}
	s.Nav.More = more
	s.Nav.Prev = back
	if r.IntN(2) == 0 {
		s.Nav.Back = back
	}
	if r.IntN(2) == 0 {
		s.Nav.Home = home
	}
	return s
}

func TestRenderProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(20240611, 7))
	for c := range propertyCases {
		s := randScreen(r)
		opts := chat.Options{PerPage: r.IntN(11), Columns: r.IntN(4), MaxLabel: r.IntN(40)}
		if r.IntN(2) == 0 {
			opts.MaxText = 10 + r.IntN(200)
		}
		if err := checkMessages(&s, opts); err != nil {
			t.Fatalf("case %d (%+v): %v\nscreen: %#v", c, opts, err, s)
		}
	}
}

// checkMessages renders every page of s and verifies what Render promises:
// every option exactly once, in order, across the pages; page sizes;
// platform limits; navigation; and the body shown whole.
func checkMessages(s *flows.Screen, opts chat.Options) error {
	perPage, cols, maxText, maxLabel := opts.PerPage, opts.Columns, opts.MaxText, opts.MaxLabel
	if perPage <= 0 {
		perPage = chat.DefaultPerPage
	}
	if cols <= 0 {
		cols = 1
	}
	if maxText <= 0 {
		maxText = chat.DefaultMaxText
	}
	if maxLabel <= 0 {
		maxLabel = chat.DefaultMaxLabel
	}
	n := chat.Pages(s, opts)
	if n < 1 {
		return fmt.Errorf("Pages = %d", n)
	}
	seen := map[string]int{}
	var order []string
	body := strings.TrimSpace(s.Text)
	prevText, shownOptions := "", false
	for i := range n {
		s.Page = i
		m := chat.Render(s, opts)
		last := i == n-1
		if u := len(utf16.Encode([]rune(m.Text))); u > maxText {
			return fmt.Errorf("page %d: text of %d units > %d", i, u, maxText)
		}
		// The body, shown once in order; once options have been shown
		// (from the body's last part on), pages repeat that last part.
		if shownOptions {
			if m.Text != prevText {
				return fmt.Errorf("page %d: text %q, want the last part %q again", i, m.Text, prevText)
			}
		} else {
			b := strings.TrimLeftFunc(body, unicode.IsSpace)
			if !strings.HasPrefix(b, m.Text) {
				return fmt.Errorf("page %d: text %q does not continue the body %q", i, m.Text, b[:min(40, len(b))])
			}
			body = b[len(m.Text):]
		}
		prevText = m.Text
		var optButtons int
		var navRow []chat.Button
		for k, row := range m.Buttons {
			if len(row) == 0 {
				return fmt.Errorf("page %d: empty row", i)
			}
			for _, b := range row {
				if b.Data == "" || len(b.Data) > chat.MaxData {
					return fmt.Errorf("page %d: callback data %q", i, b.Data)
				}
				if b.Label == "" || utf8.RuneCountInString(b.Label) > maxLabel {
					return fmt.Errorf("page %d: label %q", i, b.Label)
				}
			}
			if isNav(row) {
				if k != len(m.Buttons)-1 {
					return fmt.Errorf("page %d: navigation row not last", i)
				}
				navRow = row
				continue
			}
			if len(row) > cols {
				return fmt.Errorf("page %d: row of %d > %d columns", i, len(row), cols)
			}
			for _, b := range row {
				seen[b.Data]++
				order = append(order, b.Data)
				optButtons++
			}
		}
		shownOptions = shownOptions || optButtons > 0
		if optButtons > perPage {
			return fmt.Errorf("page %d: %d option buttons > %d", i, optButtons, perPage)
		}
		var want []string
		switch {
		case s.End && last:
		case i == 0:
			if s.Nav.Back.Key != "" && !s.End {
				want = append(want, "0")
			}
		default:
			want = append(want, "0")
		}
		if !last {
			want = append(want, "98")
		}
		if s.Nav.Home.Key != "" && !s.End {
			want = append(want, "00")
		}
		var got []string
		for _, b := range navRow {
			got = append(got, b.Data)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("page %d: navigation %v, want %v", i, got, want)
		}
	}
	if strings.TrimSpace(body) != "" {
		return fmt.Errorf("body not shown: %q", body)
	}
	var wantOrder []string
	if !s.End {
		for _, o := range s.Options {
			wantOrder = append(wantOrder, o.Key)
		}
	}
	if strings.Join(order, ",") != strings.Join(wantOrder, ",") {
		return fmt.Errorf("options shown %v, want %v", order, wantOrder)
	}
	for k, c := range seen {
		if c != 1 {
			return fmt.Errorf("option %s shown %d times", k, c)
		}
	}
	return nil
}

// isNav: navigation keys are "0", "00" and "98"; option keys start at 1
// and stop below 98 in these tests.
func isNav(row []chat.Button) bool {
	switch row[0].Data {
	case "0", "00", "98":
		return true
	}
	return false
}
