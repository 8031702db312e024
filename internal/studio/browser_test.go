package studio

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ventanilla-gob/ventanilla/internal/flowtest"
)

// axe is axe-core, vendored by `make assets`.
//
//go:embed testdata/axe-core/axe.min.js
var axe string

// shared is the one Chromium of the run: the browser tests are few and
// share it, each in a tab of its own.
var shared struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

// TestMain closes the shared Chromium once every test is done.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

// browser opens a tab in a real headless Chromium (Debian's chromium
// package). Without Chromium the test is skipped, unless CI or
// VENTANILLA_REQUIRE_CHROMIUM=1 (which `make test` sets) asks for it.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("VENTANILLA_CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" || os.Getenv("VENTANILLA_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("chromium not found on PATH, and the browser tests are required here (CI or VENTANILLA_REQUIRE_CHROMIUM=1); install chromium or set VENTANILLA_CHROMIUM")
		}
		t.Skip("chromium not found on PATH: the studio's browser tests are skipped (make test installs it)")
	}
	shared.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox, // tests may run as root, where Chromium's sandbox refuses to start
			chromedp.Flag("disable-gpu", true),
			chromedp.WindowSize(1280, 1000),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		shared.ctx, shared.cancel = ctx, func() { cancel(); cancelAlloc() }
		shared.err = chromedp.Do(ctx)
	})
	if shared.err != nil {
		t.Fatalf("starting %s: %v", path, shared.err)
	}
	tab, cancel := chromedp.NewContext(shared.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tab
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// until waits for a JavaScript condition on the page.
func until(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond)); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("panels").innerText`))
		t.Fatalf("waiting for %s: %v\n--- the page\n%s", what, err, page)
	}
}

// focus moves the focus to the element with id, as Tab would, without
// holding on to a node that the page may swap for a new one.
func focus(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.getElementById(` + jsString(id) + `).focus()`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

type violation struct {
	ID, Impact, Help string
	Nodes            []string
}

// checkAxe runs axe-core's WCAG 2.1 A and AA rules on the page as it is
// and fails the test on any violation.
func checkAxe(t *testing.T, ctx context.Context, state string) {
	t.Helper()
	for _, v := range axeViolations(t, ctx) {
		t.Errorf("%s: axe %s (%s): %s\n  %s", state, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}

func axeViolations(t *testing.T, ctx context.Context) []violation {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
		t.Fatalf("loading axe-core: %v", err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary)})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core: %v", err)
	}
	return vs
}

// The studio in a real browser, with the keyboard alone: a booking on the
// feature phone shows the golden transcript's screens, the SMS thread and
// the chat follow, the call is saved as a transcript that passes, a
// broken flow file shows its problem on the page, and axe-core finds no
// WCAG 2.1 AA violation in any of those states, nor at 200 % zoom.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	// The check itself: axe-core finds the unlabelled field of a bare page.
	do(t, ctx, chromedp.Navigate(`data:text/html,<!doctype html><html lang="en"><title>t</title><main><input></main></html>`))
	if vs := axeViolations(t, ctx); !slices.ContainsFunc(vs, func(v violation) bool { return v.ID == "label" }) {
		t.Fatalf("axe-core does not see an unlabelled field: %v", vs)
	}
	f := newFixture(t, true)
	f.opts.Watch = []string{f.dir}
	watch, stop := context.WithCancel(context.Background())
	defer stop()
	if err := f.Watch(watch); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(f.srv.URL+"/"))
	until(t, ctx, "the page", `document.getElementById("ussd-call") !== null`)
	checkAxe(t, ctx, "a new studio")

	// The first Tab reaches the skip link, which leads to the phones.
	do(t, ctx, chromedp.KeyEvent("\t"))
	until(t, ctx, "the skip link focused", `document.activeElement.classList.contains("skip")`)

	// Choose the booking transcript's mocks with the keyboard.
	do(t, ctx, focus("mocks"), chromedp.SetValue(chromedp.ID("mocks"), "turnos-book-es.yaml"),
		focus("apply-settings"), chromedp.KeyEvent("\r"))
	until(t, ctx, "the mocks chosen", `document.getElementById("mocks").value === "turnos-book-es.yaml" && document.getElementById("ussd-call") !== null`)

	golden, err := flowtest.ReadFile(filepath.Join(goldens, "turnos-book-es.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hops []float64
	for i, h := range golden.Hops {
		want := jsString(strings.TrimRight(h.Screen, "\n"))
		if i == 0 {
			do(t, ctx, focus("ussd-call"), chromedp.KeyEvent("\r"))
		} else {
			do(t, ctx, focus("ussd-input"), chromedp.KeyEvent(h.Send+"\r"))
		}
		until(t, ctx, fmt.Sprintf("hop %d's screen", i+1), `document.getElementById("ussd-screen").textContent === `+want+
			` && document.activeElement && document.body.dataset.lastHopMs !== undefined`)
		ms, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.lastHopMs`))
		if v, err := strconv.ParseFloat(ms, 64); err == nil {
			hops = append(hops, v)
		}
		if ended, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("ussd-end") !== null`)); ended != h.End {
			t.Errorf("hop %d: END shown is %v, want %v", i+1, ended, h.End)
		}
		if i == 1 {
			// Mid-booking: the chat shows the menu as buttons.
			until(t, ctx, "chat buttons", `[...document.querySelectorAll(".chat-button")].some(b => b.textContent === "Turnos")`)
			checkAxe(t, ctx, "a conversation under way")
		}
	}
	slices.Sort(hops)
	if len(hops) > 0 {
		t.Logf("hop round trip in the browser, %d hops: median %.1f ms, max %.1f ms", len(hops), hops[len(hops)/2], hops[len(hops)-1])
	}
	until(t, ctx, "the SMS thread's segment count", `document.querySelector(".sms .thread").innerText.includes("GSM-7 · 1 segment")`)

	// Save as transcript, then play it back as `flows test` does.
	do(t, ctx, focus("save-name"), chromedp.KeyEvent("booked-in-the-browser\r"))
	until(t, ctx, "the transcript saved", `(document.getElementById("saved") || {}).textContent?.startsWith("Saved ")`)
	saved, err := flowtest.ReadFile(filepath.Join(f.transcripts, "booked-in-the-browser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := &flowtest.Runner{Flows: f.registry(), Messages: f.opts.Messages, Root: f.opts.Root}
	if _, fails, err := r.Run(context.Background(), saved); err != nil || len(fails) > 0 {
		t.Errorf("the saved transcript fails: %v %v", err, fails)
	}

	// A flow file broken on disk: its problem shows on the page.
	path := filepath.Join(f.dir, "turnos.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "kind: menu", "kind: menú", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the lint problem", `document.querySelector("#problems a") !== null && document.querySelector("#problems").innerText.includes("turnos.yaml:") && document.querySelector("#problems").innerText.includes("menú")`)
	checkAxe(t, ctx, "lint problems listed")

	// 200 % zoom: half the width at twice the scale; the page reflows
	// instead of scrolling sideways.
	do(t, ctx, chromedp.EmulateViewport(640, 900, chromedp.EmulateScale(2)))
	until(t, ctx, "the page reflowed", `document.documentElement.scrollWidth <= window.innerWidth`)
	checkAxe(t, ctx, "200 % zoom")
}

var updateScreenshots = flag.Bool("update-screenshots", false, "rewrite the studio's screenshots and their screens in docs/studio.md")

// docsPath is the studio's guide, from this package.
var docsPath = filepath.Join("..", "..", "docs", "studio.md")

// The three phones in Spanish and in Kichwa, as docs/studio.md shows
// them: -update-screenshots (make screenshots) takes the pictures and
// writes the screens they show into the guide; without it the test fails
// when the guide's screens are not what the studio shows now.
func TestScreenshots(t *testing.T) {
	var ctx context.Context
	if *updateScreenshots {
		ctx = browser(t)
	}
	var got strings.Builder
	for _, c := range []struct {
		lang, citizen, mocks string
		answers              []string
	}{
		{"es", "new", "turnos-book-es.yaml", []string{"1", "1", "1"}},
		{"qu", "returning", "turnos-book-qu.yaml", []string{"1", "1"}},
	} {
		f := newFixture(t, false)
		f.settings(t, map[string][]string{"lang": {c.lang}, "citizen": {c.citizen}, "mocks": {c.mocks}})
		f.send(t, PhoneUSSD, "")
		var page string
		for _, a := range c.answers {
			page = f.send(t, PhoneUSSD, a)
		}
		fmt.Fprintf(&got, "%s:\n\n```\n%s\n```\n\n", c.lang, ussdScreen(t, page))
		if !*updateScreenshots {
			continue
		}
		do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(f.srv.URL+"/"))
		until(t, ctx, "the threads at their latest message", `[...document.querySelectorAll(".thread")].every(e => e.scrollHeight <= e.clientHeight || e.scrollTop > 0)`)
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID("phones")))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "studio-"+c.lang+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- screens: make screenshots -->\n", "<!-- end of screens -->"
	before, rest, ok1 := strings.Cut(string(doc), begin)
	_, after, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatalf("docs/studio.md has no %q … %q section", begin, end)
	}
	if *updateScreenshots {
		if err := os.WriteFile(docsPath, []byte(before+begin+got.String()+end+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if current, _, _ := strings.Cut(rest, end); current != got.String() {
		t.Errorf("docs/studio.md shows screens the studio no longer shows: run make screenshots\n--- in the guide\n%s--- now\n%s", current, got.String())
	}
}
