package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/chat"
	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
)

var navSeed = flag.Uint64("nav.seed", 0, "seed of TestNavigationModel's random walks (0: a new one each run)")

// The navigation model: random walks over the catalogue on the product's
// gateway, on USSD, SMS and chat, in every language, that answer menus
// and questions but also send 0, 00, 98, numbers out of range and garbage
// at random moments. After every hop the model checks what the citizen
// sees against what the keys promise:
//
//   - no line is shown twice on one screen;
//   - 98 is offered exactly when a next page exists: 98 where it is offered
//     shows the next page, 98 elsewhere shows the screen again from its
//     start under the "no more pages" note;
//   - the pages of one screen never overlap and together show each of its
//     options once, numbered 1…n;
//   - 0 from page k returns page k−1 exactly, 0 on a first page that offers
//     no Back gives the "no previous screen" note, and 98 after 0 returns
//     the page already seen;
//   - a USSD screen fits the carrier's limit; an SMS fits its segments.
//
// The walks are seeded: a failure prints the seed, and -nav.seed=N replays
// them exactly (go test ./cmd/ventanilla -run TestNavigationModel -nav.seed=N).
func TestNavigationModel(t *testing.T) {
	seed := *navSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -nav.seed=%d)", seed, seed)
	_, a := gatewayLogging(t, &config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.gateway.PhoneLimit, a.gateway.CarrierLimit = nil, nil // walks send many hops from one number
	cov := &coverage{next: a.gateway.Engine.Observer, reached: map[string]bool{}}
	a.gateway.Engine.Observer = cov

	const walks, hops = 24, 60
	phone := 0
	var total stats
	for _, channel := range []string{"ussd", "sms", "chat"} {
		for _, locale := range []string{"es", "en", "qu"} {
			t.Run(channel+"/"+locale, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(phone)))
				for w := range walks {
					phone++
					m := &walker{
						t: t, g: a.gateway, rng: rng, channel: channel, locale: locale,
						phone: fmt.Sprintf("+59399%07d", phone), msgs: a.msgs,
						name: fmt.Sprintf("seed %d, %s/%s walk %d", seed, channel, locale, w),
					}
					m.walk(hops)
					total.add(m.stats)
					if t.Failed() {
						return
					}
				}
			})
		}
	}
	t.Logf("%d hops, %d pages turned, %d notes, %d screens of several pages walked to their end", total.hops, total.turned, total.notes, total.walked)
	// Every catalogue flow was walked: each of its screens that waits for
	// the citizen was reached.
	reg := a.flows.Load()
	// Reply flows start with the answer to a reminder, not from a menu.
	replies := map[string]bool{}
	for _, id := range reg.IDs() {
		for _, r := range reg.Latest(id).Replies() {
			replies[r] = true
		}
	}
	var missed []string
	for _, id := range reg.IDs() {
		if replies[id] {
			continue
		}
		cf := reg.Latest(id)
		for sid, st := range cf.Steps {
			switch st.Kind {
			case "menu", "list", "input":
				if !cov.has(id, sid) {
					missed = append(missed, id+"."+sid)
				}
			}
		}
	}
	sort.Strings(missed)
	if len(missed) > 0 {
		t.Errorf("seed %d: the walks never reached %s", seed, strings.Join(missed, ", "))
	}
}

// stats count what the walks did, to show they did it.
type stats struct{ hops, turned, notes, walked int }

func (s *stats) add(o stats) {
	s.hops += o.hops
	s.turned += o.turned
	s.notes += o.notes
	s.walked += o.walked
}

// coverage records the steps reached, passing the funnel on.
type coverage struct {
	next    flows.Observer
	mu      sync.Mutex
	reached map[string]bool
}

func (c *coverage) StepReached(flow, step string) {
	c.mu.Lock()
	c.reached[flow+"."+step] = true
	c.mu.Unlock()
	if c.next != nil {
		c.next.StepReached(flow, step)
	}
}

func (c *coverage) StepCompleted(flow, step string) {
	if c.next != nil {
		c.next.StepCompleted(flow, step)
	}
}

func (c *coverage) Call(service, outcome string, d time.Duration) {
	if c.next != nil {
		c.next.Call(service, outcome, d)
	}
}

func (c *coverage) has(flow, step string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reached[flow+"."+step]
}

// answers that take the catalogue's questions further: valid cédulas,
// procedure numbers the sample institution knows, a mailbox message.
var answers = []string{"1714307103", "0926687856", "1001", "1002", "1003", "1004", "42", "La atención fue muy buena, gracias."}

// garbage is what citizens type by mistake.
var garbage = []string{"", " ", "abc", "*", "#", "1*2", "9 9", "０", "-1", "1.5", "000", "980", "99", "0 0", "ñ", "🙂", strings.Repeat("9", 40)}

// seen is what the model knows of a page as the citizen sees it.
type seen struct {
	text  string
	lines []string // content lines: body and options, no navigation
	keys  []int    // option keys, in order
	more  bool     // 98 offered
	back  bool     // 0 offered
}

type walker struct {
	t       *testing.T
	g       *gateway.Gateway
	rng     *rand.Rand
	msgs    *i18n.Catalog
	channel string
	locale  string
	phone   string
	name    string
	session int
	log     []string // inputs and screens of this walk, for the failure report

	stats stats

	pages []seen // the pages of the current screen seen so far, from its first
	k     int    // the page shown
	ended bool
}

func (m *walker) fail(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("%s: %s\nwalk so far:\n%s", m.name, fmt.Sprintf(format, args...), strings.Join(m.log, "\n"))
}

// send makes one hop and returns the page shown.
func (m *walker) send(input string) (seen, bool) {
	m.t.Helper()
	in := carrier.Inbound{Channel: m.channel, Carrier: "walker", Phone: m.phone, Input: input}
	limit := 0
	switch m.channel {
	case "ussd":
		in.SessionID = fmt.Sprintf("%s-%d", m.phone, m.session)
		in.ServiceCode = "*384#"
		// Screens smaller than the flows were written for make the pager work.
		limit = []int{182, 160, 120, 90, 60}[m.session%5]
		in.Limit = limit
	case "sms":
		m.g.SMS = sms.Options{MaxSegments: 1 + m.session%3, Transliterate: m.session%2 == 0}
	case "chat":
		// Fewer buttons to a page than Telegram's default, so that the
		// catalogue's lists page.
		m.g.Chat = chat.Options{PerPage: 2 + m.session%3}
	}
	m.stats.hops++
	r, err := m.g.Hop(context.Background(), in)
	if err != nil {
		m.fail("hop %q: %v", input, err)
	}
	m.log = append(m.log, fmt.Sprintf("> %q\n%s", input, shown(r.Text, r.Buttons)))
	p := m.parse(r)
	// No line twice on one screen.
	all := strings.Split(r.Text, "\n")
	for i, line := range all {
		if strings.TrimSpace(line) != "" && slices.Contains(all[:i], line) {
			m.fail("line %q shown twice", line)
		}
	}
	switch m.channel {
	case "ussd":
		if n := utf8.RuneCountInString(r.Text); n > limit {
			m.fail("a screen of %d characters on a %d-character carrier", n, limit)
		}
	case "sms":
		if n, _ := sms.Segments(r.Text); n > m.g.SMS.MaxSegments {
			m.fail("an SMS of %d segments where the carrier allows %d", n, m.g.SMS.MaxSegments)
		}
	}
	if r.End && p.more {
		m.fail("a final page offers 98")
	}
	return p, r.End
}

func shown(text string, buttons [][]carrier.Button) string {
	s := "  | " + strings.ReplaceAll(text, "\n", "\n  | ")
	for _, row := range buttons {
		var b []string
		for _, x := range row {
			b = append(b, "["+x.Data+" "+x.Label+"]")
		}
		s += "\n  " + strings.Join(b, " ")
	}
	return s
}

var (
	ussdOption = regexp.MustCompile(`^([0-9]+)\. `)
	smsNavItem = regexp.MustCompile(`^(0|00|98) \S`)
)

// parse reads a page the way a citizen does: its options and the
// navigation keys it offers, on the channel's own layout.
func (m *walker) parse(r carrier.Reply) seen {
	// A page is its text and, on chat, its buttons: two pages are the
	// same only when both are.
	p := seen{text: r.Text}
	for _, row := range r.Buttons {
		for _, b := range row {
			p.text += "\n[" + b.Data + " " + b.Label + "]"
		}
	}
	lines := strings.Split(r.Text, "\n")
	if m.channel == "sms" && len(lines) > 0 {
		// The navigation keys share the last line: "98 Más - 0 Atrás".
		last := lines[len(lines)-1]
		items := strings.Split(last, " - ")
		nav := true
		for _, it := range items {
			nav = nav && smsNavItem.MatchString(it)
		}
		if nav {
			lines = lines[:len(lines)-1]
			for _, it := range items {
				key, _, _ := strings.Cut(it, " ")
				p.more = p.more || key == "98"
				p.back = p.back || key == "0"
			}
		}
	}
	for _, line := range lines {
		if mm := ussdOption.FindStringSubmatch(line); mm != nil {
			switch mm[1] {
			case "98":
				p.more = true
				continue
			case "0":
				p.back = true
				continue
			case "00":
				continue
			}
			if m.channel != "chat" {
				k, _ := strconv.Atoi(mm[1])
				p.keys = append(p.keys, k)
			}
		}
		p.lines = append(p.lines, line)
	}
	for _, row := range r.Buttons {
		for _, b := range row {
			switch b.Data {
			case "98":
				p.more = true
			case "0":
				p.back = true
			case "00":
			default:
				k, err := strconv.Atoi(b.Data)
				if err != nil {
					m.fail("button %+v is no key a citizen could type", b)
				}
				p.keys = append(p.keys, k)
			}
		}
	}
	return p
}

// note reports whether page p starts with the navigation note id.
func (m *walker) note(p seen, id string) bool {
	for _, loc := range []string{"es", "en", "qu"} {
		n := m.msgs.Text(loc, id) + "\n"
		if strings.HasPrefix(p.text, n) || strings.HasPrefix(p.text, sms.Transliterate(n)) {
			return true
		}
	}
	return false
}

// newScreen starts the model on page 0 of a screen.
func (m *walker) newScreen(p seen) {
	m.pages, m.k = []seen{p}, 0
}

// pick chooses the next input: mostly what a citizen would answer, often a
// navigation key, sometimes a mistake.
func (m *walker) pick() string {
	cur := m.pages[m.k]
	// Turn the pages of a split screen often: most screens fit one page.
	switch r := m.rng.IntN(100); {
	case cur.more && r < 35:
		return "98"
	case m.k > 0 && r < 55:
		return "0"
	}
	switch r := m.rng.IntN(100); {
	case r < 45 && len(cur.keys) > 0:
		return strconv.Itoa(cur.keys[m.rng.IntN(len(cur.keys))])
	case r < 45:
		return answers[m.rng.IntN(len(answers))]
	case r < 60:
		return "98"
	case r < 72:
		return "0"
	case r < 78:
		return "00"
	case r < 88:
		return strconv.Itoa(10 + m.rng.IntN(90)) // out of range on every catalogue screen
	default:
		return garbage[m.rng.IntN(len(garbage))]
	}
}

func (m *walker) walk(hops int) {
	m.t.Helper()
	first := "hola"
	if m.channel == "ussd" {
		first = ""
	}
	p, end := m.send(first)
	m.newScreen(p)
	// The language first: every walk of this locale is in it.
	lang := map[string]string{"es": "1", "en": "2", "qu": "3"}[m.locale]
	p, end = m.send(lang)
	m.newScreen(p)
	for range hops {
		if end {
			m.session++
			p, end = m.send(first)
			m.newScreen(p)
			continue
		}
		if m.channel == "ussd" && m.rng.IntN(100) < 4 {
			// The call drops and the citizen dials again: the offer to
			// resume is a screen like any other.
			m.session++
			p, end = m.send(first)
			m.newScreen(p)
			continue
		}
		in := m.pick()
		cur := m.pages[m.k]
		p, end = m.send(in)
		switch {
		case in == "98" && cur.more:
			m.stats.turned++
			m.nextPage(p)
		case in == "98":
			if !m.note(p, i18n.NavNoMore) {
				m.fail("98 where no 98 is offered: want the screen again under the no-more note")
			}
			m.stats.notes++
			m.newScreen(p)
		case in == "0" && m.k > 0:
			if p.text != m.pages[m.k-1].text {
				m.fail("0 from page %d: want page %d again:\n%s", m.k+1, m.k, m.pages[m.k-1].text)
			}
			m.k--
		case in == "0" && cur.back:
			if m.note(p, i18n.NavNoBack) || p.text == cur.text {
				m.fail("0 where 0 is offered did not go back")
			}
			m.newScreen(p)
		case in == "0":
			if !m.note(p, i18n.NavNoBack) && p.text != cur.text {
				m.fail("0 where no 0 is offered: want the same screen, under the no-previous note")
			}
			m.newScreen(p)
		case p.text == cur.text && !end:
			// The same page again (a final text being paged ignores
			// anything but the paging keys): the model stays.
		default:
			m.newScreen(p)
		}
		if m.k == 0 && len(m.pages[0].keys) > 0 && m.pages[0].keys[0] != 1 {
			m.fail("the first page of a screen starts at option %d", m.pages[0].keys[0])
		}
	}
}

// nextPage checks the page 98 led to against the pages already seen.
func (m *walker) nextPage(p seen) {
	m.t.Helper()
	m.k++
	if m.k < len(m.pages) {
		if p.text != m.pages[m.k].text {
			m.fail("98 to page %d, seen before as:\n%s", m.k+1, m.pages[m.k].text)
		}
		return
	}
	// (A chat page of options repeats the body, a note above it included.)
	if m.note(p, i18n.NavNoMore) && !m.note(m.pages[0], i18n.NavNoMore) {
		m.fail("98 was offered but there was no next page")
	}
	var before []int
	for _, q := range m.pages {
		before = append(before, q.keys...)
	}
	for _, k := range p.keys {
		if slices.Contains(before, k) {
			m.fail("option %d shown on two pages of one screen", k)
		}
	}
	// Nor does the text: a chat page of options repeats the question on
	// purpose, USSD and SMS pages go on from where the last one ended.
	if m.channel != "chat" {
		for _, line := range p.lines {
			for _, q := range m.pages {
				if strings.TrimSpace(line) != "" && slices.Contains(q.lines, line) {
					m.fail("line %q shown on two pages of one screen", line)
				}
			}
		}
	}
	m.pages = append(m.pages, p)
	if p.more {
		return
	}
	m.stats.walked++
	// The last page: together the pages show options 1…n, each once, in order.
	all := append(before, p.keys...)
	for i, k := range all {
		if k != i+1 {
			m.fail("the pages of one screen show options %v, want 1…%d each once", all, len(all))
		}
	}
}
