package sms_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/channels/sms/alphabet"
	"github.com/ventanilla-gob/ventanilla/flows"
)

// The property tests check the package from the outside over random
// Spanish and Kichwa text with accents, extension characters and the
// occasional emoji, against refSegments (gsm_test.go).

const propertyCases = 3000

var (
	spanish = []string{"Señor", "cédula", "trámite", "día", "años", "pingüino", "¿Cuándo?",
		"¡Atención!", "información", "Ñandú", "también", "Quito", "Guayaquil", "está",
		"número", "turno", "agencia", "Registro", "Civil", "Perú", "teléfono", "sí"}
	kichwa = []string{"Ñukanchik", "kawsay", "shunku", "wasikunapi", "yachachik",
		"mashikuna", "Sumak", "allpamamaman", "rimanakuy", "kamachikkunapak", "Alli", "puncha"}
	extension = []string{"€25", "{x}", "[1]", "a|b", "~", "^", "\\", "10€"}
	emoji     = []string{"🙂", "👍🏽", "🇪🇨", "👨\u200d👩\u200d👧", "📅", "✅"}
	letters   = []rune("abcdefghijklmnopqrstuvwxyzáéíóúñüÁÉÍÓÚÑÜ")
)

func randWord(r *rand.Rand) string {
	switch p := r.IntN(100); {
	case p < 3: // a very long word: a code, a compound name
		return randRunes(r, letters, 60+r.IntN(250))
	case p < 35:
		return spanish[r.IntN(len(spanish))]
	case p < 60:
		return kichwa[r.IntN(len(kichwa))]
	case p < 66:
		return extension[r.IntN(len(extension))]
	case p < 68:
		return emoji[r.IntN(len(emoji))]
	case p < 70:
		return "12\u00a0345" // no-break space: never split
	default:
		return randRunes(r, letters, 1+r.IntN(10))
	}
}

func randRunes(r *rand.Rand, alphabet []rune, n int) string {
	var b strings.Builder
	for range n {
		b.WriteRune(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// randText has 0–150 words; a third of the texts have no emoji at all, so
// that long GSM-7 texts occur.
func randText(r *rand.Rand) string {
	var b strings.Builder
	noEmoji := r.IntN(3) == 0
	for i := range r.IntN(150) {
		if i > 0 {
			switch p := r.IntN(30); {
			case p == 0:
				b.WriteString("\n")
			case p == 1:
				b.WriteString("  ")
			default:
				b.WriteString(" ")
			}
		}
		w := randWord(r)
		for noEmoji && sms.EncodingOf(sms.Transliterate(w)) != sms.GSM7 {
			w = randWord(r)
		}
		b.WriteString(w)
	}
	return b.String()
}

func TestSegmentsProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(20240611, 1))
	for c := range propertyCases {
		s := randText(r)
		n, enc := sms.Segments(s)
		if rn, renc := refSegments(s); n != rn || enc != renc {
			t.Fatalf("case %d: Segments = %d %v, reference %d %v\n%q", c, n, enc, rn, renc, s)
		}
		sept, gsm := alphabet.Septets(s)
		if gsm != (enc == sms.GSM7) || gsm != (sms.EncodingOf(s) == sms.GSM7) {
			t.Fatalf("case %d: Septets gsm=%v, Segments %v, EncodingOf %v", c, gsm, enc, sms.EncodingOf(s))
		}
		if gsm && (sept > 160) != (n > 1) {
			t.Fatalf("case %d: %d septets in %d segments", c, sept, n)
		}
	}
}

func isBreak(r rune) bool {
	return unicode.IsSpace(r) && r != '\u00a0' && r != '\u2007' && r != '\u202f'
}

func TestFitProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(20240611, 3))
	for c := range propertyCases {
		s := randText(r)
		limit := 1 + r.IntN(4)
		got := sms.Fit(s, limit)
		n, _ := refSegments(got)
		if n > limit {
			t.Fatalf("case %d: Fit(%d) needs %d segments: %q", c, limit, n, got)
		}
		if full, _ := refSegments(s); full <= limit {
			if got != s {
				t.Fatalf("case %d: text that fits was changed", c)
			}
			continue
		}
		body, ok := strings.CutSuffix(got, "...")
		if !ok {
			body, ok = strings.CutSuffix(got, "…")
		}
		if !ok {
			t.Fatalf("case %d: cut text has no marker: %q", c, got)
		}
		trimmed := strings.TrimFunc(s, isBreak)
		if !strings.HasPrefix(trimmed, body) || body == "" && trimmed != "" {
			t.Fatalf("case %d: %q is not a prefix of the text", c, body)
		}
		// A word boundary, unless the first word alone is too long.
		after := trimmed[len(body):]
		if after != "" && !strings.HasPrefix(after, " ") && !strings.HasPrefix(after, "\n") &&
			strings.ContainsFunc(body, isBreak) {
			t.Fatalf("case %d: cut inside a word: %q|%q", c, body[max(0, len(body)-20):], after[:min(20, len(after))])
		}
		if strings.HasSuffix(got, "…") && sms.EncodingOf(body) == sms.GSM7 {
			t.Fatalf("case %d: GSM-7 text ended with the UCS-2 ellipsis", c)
		}
	}
}

func TestTransliterateProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(20240611, 4))
	letters := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" +
		"áéíóúÁÉÍÓÚñÑüÜ¿¡ .,;:!?¿()\"'-/0123456789\n")
	for c := range propertyCases {
		s := randRunes(r, letters, r.IntN(400))
		got := sms.Transliterate(s)
		if _, gsm := alphabet.Septets(got); !gsm {
			t.Fatalf("case %d: %q is not GSM-7", c, got)
		}
		if len([]rune(got)) != len([]rune(s)) {
			t.Fatalf("case %d: length changed", c)
		}
		if !strings.ContainsAny(s, "áíóúÁÍÓÚ") && got != s {
			t.Fatalf("case %d: text without the eight letters changed", c)
		}
	}
}

// Screens: body words are letters only, so a body line never reads as an
// option ("1. …") line.
func randScreen(r *rand.Rand) flows.Screen {
	var body strings.Builder
	for i := range r.IntN(80) {
		if i > 0 {
			if r.IntN(20) == 0 {
				body.WriteString("\n")
			} else {
				body.WriteString(" ")
			}
		}
		w := randWord(r)
		for w != "" && !unicode.IsLetter([]rune(w)[0]) {
			w = randWord(r)
		}
		body.WriteString(w)
	}
	s := flows.Screen{Text: body.String(), End: r.IntN(10) == 0}
	for i := range r.IntN(31) {
		label := randRunes(r, letters, 1+r.IntN(15))
		for range r.IntN(4) {
			label += " " + randWord(r)
		}
		s.Options = append(s.Options, flows.Option{Key: fmt.Sprint(i + 1), Label: label})
	}
	locales := []struct {
		loc              string
		back, home, more string
	}{{"es", "Atrás", "Inicio", "Más"}, {"en", "Back", "Home", "More"}, {"qu", "Washaman", "Kallari", "Ashtawan"}}
	l := locales[r.IntN(len(locales))]
	s.Locale = l.loc
	s.Nav.More = flows.Option{Key: "98", Label: l.more}
	s.Nav.Prev = flows.Option{Key: "0", Label: l.back}
	if r.IntN(2) == 0 {
		s.Nav.Back = s.Nav.Prev
	}
	if r.IntN(2) == 0 {
		s.Nav.Home = flows.Option{Key: "00", Label: l.home}
	}
	return s
}

func TestRenderProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(20240611, 5))
	for c := range propertyCases {
		s := randScreen(r)
		opts := sms.Options{Transliterate: r.IntN(2) == 0, MaxSegments: r.IntN(4)}
		pages := sms.Paginate(&s, opts)
		if err := checkPages(&s, opts, pages); err != nil {
			t.Fatalf("case %d (%+v): %v\nscreen: %#v\npages:\n%s", c, opts, err, s,
				strings.Join(pages, "\n-----\n"))
		}
		if n := sms.Pages(&s, opts); n != len(pages) {
			t.Fatalf("case %d: Pages = %d, Paginate gave %d", c, n, len(pages))
		}
		s.Page = r.IntN(len(pages))
		if got := sms.Render(&s, opts); got != pages[s.Page] {
			t.Fatalf("case %d: Render(page %d) disagrees with Paginate", c, s.Page)
		}
	}
}

// checkPages verifies every promise Render makes about pages.
func checkPages(s *flows.Screen, opts sms.Options, pages []string) error {
	if len(pages) == 0 {
		return fmt.Errorf("no pages")
	}
	budget := opts.MaxSegments
	if budget == 0 {
		budget = sms.DefaultMaxSegments
	}
	// With Transliterate, compare modulo transliteration; whether it was
	// applied where it pays is checked on its own.
	tr := func(s string) string { return s }
	if opts.Transliterate {
		tr = sms.Transliterate
	}
	item := func(o flows.Option) string { return tr(o.Key + " " + o.Label) }
	var optLines []string
	if !s.End {
		for _, o := range s.Options {
			optLines = append(optLines, tr(o.Key+". "+o.Label))
		}
	}
	body := tr(strings.TrimFunc(s.Text, isBreak))
	nextOpt := 0
	for i, p := range pages {
		last := i == len(pages)-1
		if n, _ := refSegments(p); n > budget {
			return fmt.Errorf("page %d needs %d segments > %d", i, n, budget)
		}
		if opts.Transliterate && sms.EncodingOf(p) == sms.UCS2 && sms.EncodingOf(tr(p)) == sms.GSM7 {
			return fmt.Errorf("page %d could have been GSM-7", i)
		}
		lines := strings.Split(tr(p), "\n")
		// The navigation line.
		var nav []string
		if !last {
			nav = append(nav, item(s.Nav.More))
		}
		if !(last && s.End) && (i > 0 || s.Nav.Back.Key != "" && !s.End) {
			nav = append(nav, item(s.Nav.Prev))
		}
		want := strings.Join(nav, " - ")
		if last && s.Nav.Home.Key != "" && !s.End {
			withHome := strings.Join(append(nav, item(s.Nav.Home)), " - ")
			if lines[len(lines)-1] == withHome {
				want = withHome
			}
		}
		if want != "" {
			if lines[len(lines)-1] != want {
				return fmt.Errorf("page %d: navigation line %q, want %q", i, lines[len(lines)-1], want)
			}
			lines = lines[:len(lines)-1]
		}
		// Options, whole and in order, after the body lines.
		k := len(lines)
		for k > 0 && isOptionLine(lines[k-1]) {
			k--
		}
		for _, l := range lines[k:] {
			if nextOpt >= len(optLines) {
				return fmt.Errorf("page %d: unexpected option line %q", i, l)
			}
			w := optLines[nextOpt]
			if l != w && !(strings.HasSuffix(l, "...") && strings.HasPrefix(w, strings.TrimSuffix(l, "..."))) {
				return fmt.Errorf("page %d: option line %q, want %q", i, l, w)
			}
			nextOpt++
		}
		// The body continues where the previous page left it.
		for _, l := range lines[:k] {
			body = strings.TrimLeftFunc(body, isBreak)
			if !strings.HasPrefix(body, l) {
				return fmt.Errorf("page %d: body line %q does not continue %q", i, l, body[:min(len(body), 40)])
			}
			body = body[len(l):]
		}
		if k < len(lines) && strings.TrimFunc(body, isBreak) != "" {
			return fmt.Errorf("page %d: options before the body ended", i)
		}
	}
	if strings.TrimFunc(body, isBreak) != "" {
		return fmt.Errorf("body not shown: %q", body)
	}
	if nextOpt != len(optLines) {
		return fmt.Errorf("%d of %d options shown", nextOpt, len(optLines))
	}
	return nil
}

func isOptionLine(l string) bool {
	i := strings.IndexFunc(l, func(r rune) bool { return r < '0' || r > '9' })
	return i > 0 && strings.HasPrefix(l[i:], ". ")
}
