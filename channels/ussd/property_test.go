package ussd_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// The property test checks Paginate from the outside, the way a handset
// sees it, over random screens. Body words use letters only, so a body line
// can never be mistaken for an option or navigation line (those start with
// digits).

const propertyCases = 3000

var (
	letters = []rune("abcdefghijklmnopqrstuvwxyzáéíóúñüÁÉÍÓÚÑÜ")
	kichwa  = []string{"Ñukanchik", "kawsay", "shunku", "wasikunapi", "yachachik",
		"mashikuna", "Sumak", "allpamamaman", "rimanakuy", "kamachikkunapak"}
	labelRunes = []rune("abcdefghijklmnopqrstuvwxyz ÁÉÍÓÚáéíóúñÑ0123456789-/.:")
)

func randWord(r *rand.Rand) string {
	switch p := r.IntN(100); {
	case p < 5: // very long word: a URL-less code, a compound name
		return randRunes(r, letters, 40+r.IntN(220))
	case p < 25:
		w := kichwa[r.IntN(len(kichwa))]
		if r.IntN(3) == 0 {
			w += []string{"kuna", "pak", "manta", "pi"}[r.IntN(4)]
		}
		return w
	default:
		return randRunes(r, letters, 1+r.IntN(12))
	}
}

func randRunes(r *rand.Rand, alphabet []rune, n int) string {
	var b strings.Builder
	for range n {
		b.WriteRune(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func randScreen(r *rand.Rand) flows.Screen {
	var body strings.Builder
	for i := range r.IntN(60) {
		if i > 0 {
			switch p := r.IntN(20); {
			case p == 0:
				body.WriteString("\n")
			case p == 1:
				body.WriteString("  ")
			default:
				body.WriteString(" ")
			}
		}
		body.WriteString(randWord(r))
	}
	s := flows.Screen{Text: body.String(), Nav: flows.Nav{More: more}, End: r.IntN(10) == 0}
	for i := range r.IntN(31) {
		s.Options = append(s.Options, flows.Option{
			Key:   fmt.Sprint(i + 1),
			Label: randRunes(r, labelRunes, r.IntN(60)) + "x", // 1–60 runes, never blank
		})
	}
	if r.IntN(2) == 0 {
		s.Nav.Back = back
	}
	if r.IntN(2) == 0 {
		s.Nav.Home = home
	}
	return s
}

func TestPaginateProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(20240611, 182))
	limits := []int{120, 160, 182}
	for c := range propertyCases {
		s := randScreen(r)
		limit := limits[r.IntN(len(limits))]
		pages := ussd.Paginate(&s, limit)
		if err := checkPages(&s, limit, pages); err != nil {
			t.Fatalf("case %d (limit %d): %v\nscreen: %#v\npages:\n%s", c, limit, err, s,
				strings.Join(pages, "\n-----\n"))
		}
		if n := ussd.Pages(&s, limit); n != len(pages) {
			t.Fatalf("case %d: Pages = %d, Paginate gave %d", c, n, len(pages))
		}
		s.Page = r.IntN(len(pages))
		if text, n := ussd.Render(&s, limit); text != pages[s.Page] || n != len(pages) {
			t.Fatalf("case %d: Render(page %d) disagrees with Paginate", c, s.Page)
		}
		// Options that carry their rune count, as compiled menus' do,
		// lay out as those counted on the hop.
		counted := s
		counted.Options = make([]flows.Option, len(s.Options))
		for i, o := range s.Options {
			counted.Options[i] = flows.NewOption(o.Key, o.Label)
		}
		if got := ussd.Paginate(&counted, limit); !slices.Equal(got, pages) {
			t.Fatalf("case %d: counted options give\n%s\nagainst\n%s", c,
				strings.Join(got, "\n-----\n"), strings.Join(pages, "\n-----\n"))
		}
	}
}

// checkPages verifies every promise Paginate makes about pages.
func checkPages(s *flows.Screen, limit int, pages []string) error {
	if len(pages) == 0 {
		return fmt.Errorf("no pages")
	}
	optLine := map[string]int{}
	for i, o := range s.Options {
		optLine[o.Key+". "+o.Label] = i
	}
	const moreLine, backLine, homeLine = "98. Más", "0. Atrás", "00. Inicio"

	body := strings.TrimSpace(s.Text)
	pos := 0 // how much of body the pages have shown so far
	nextOpt := 0
	for i, p := range pages {
		last := i == len(pages)-1
		if n := utf8.RuneCountInString(p); n > limit {
			return fmt.Errorf("page %d has %d runes > %d", i, n, limit)
		}
		var piece []string
		var hasMore, hasBack, hasHome, content, optSeen, navSeen bool
		for _, line := range strings.Split(p, "\n") {
			if k, ok := optLine[line]; ok {
				if s.End {
					return fmt.Errorf("page %d: option %q on an end screen", i, line)
				}
				if navSeen {
					return fmt.Errorf("page %d: option after navigation", i)
				}
				if k != nextOpt {
					return fmt.Errorf("page %d: option %d where %d was due (lost, repeated or out of order)", i, k, nextOpt)
				}
				nextOpt++
				content, optSeen = true, true
				continue
			}
			switch line {
			case moreLine:
				hasMore, navSeen = true, true
				continue
			case backLine:
				hasBack, navSeen = true, true
				continue
			case homeLine:
				hasHome, navSeen = true, true
				continue
			}
			if navSeen || optSeen {
				return fmt.Errorf("page %d: stray line %q after options or navigation", i, line)
			}
			piece = append(piece, line)
			content = true
		}

		// Body: each piece is the next stretch of the body, in order, with
		// only whitespace skipped at split points.
		if len(piece) > 0 {
			text := strings.Join(piece, "\n")
			for pos < len(body) && unicode.IsSpace(rune(body[pos])) {
				pos++
			}
			if !strings.HasPrefix(body[pos:], text) {
				return fmt.Errorf("page %d: body piece %q is not the next part of the body", i, text)
			}
			pos += len(text)
			if pos < len(body) && !unicode.IsSpace(rune(body[pos])) && strings.ContainsAny(text, " \n") {
				return fmt.Errorf("page %d: piece %q cuts a word although it has a word boundary", i, text)
			}
		}

		if !last && !content {
			return fmt.Errorf("page %d: empty page before the last", i)
		}
		if hasMore == last {
			return fmt.Errorf("page %d of %d: More line present = %v", i, len(pages), hasMore)
		}
		wantBack := (i > 0 || s.Nav.Back != flows.Option{}) && !(s.End && last)
		if s.End && i == 0 {
			wantBack = false
		}
		if hasBack != wantBack {
			return fmt.Errorf("page %d: Back line present = %v, want %v", i, hasBack, wantBack)
		}
		wantHome := false
		if last && !s.End && s.Nav.Home != (flows.Option{}) {
			// Home is shown whenever it fits; dropped only for lack of room.
			wantHome = hasHome || utf8.RuneCountInString(p)+1+len([]rune(homeLine)) <= limit
		}
		if hasHome != wantHome {
			return fmt.Errorf("page %d: Home line present = %v, want %v", i, hasHome, wantHome)
		}
	}
	if strings.TrimSpace(body[pos:]) != "" {
		return fmt.Errorf("body lost after byte %d: %q", pos, body[pos:])
	}
	if !s.End && nextOpt != len(s.Options) {
		return fmt.Errorf("only %d of %d options shown", nextOpt, len(s.Options))
	}
	return nil
}
