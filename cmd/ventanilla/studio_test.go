package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// studioPage drives a studio over HTTP as its page's forms do.
type studioPage struct {
	t    *testing.T
	url  string
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func openStudio(t *testing.T, transcripts string, args ...string) *studioPage {
	t.Helper()
	var c config
	fs := flagSet("studio", io.Discard, &c)
	if err := parseFlags(fs, args, &c); err != nil {
		t.Fatal(err)
	}
	st, stop, err := newStudio(&c, transcripts, "", os.LookupEnv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	srv := httptest.NewServer(st)
	t.Cleanup(srv.Close)
	p := &studioPage{t: t, url: srv.URL}
	m := csrfRE.FindStringSubmatch(p.get("/"))
	if m == nil {
		t.Fatal("no form token on the page")
	}
	p.csrf = m[1]
	return p
}

func (p *studioPage) get(path string) string {
	p.t.Helper()
	resp, err := http.Get(p.url + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func (p *studioPage) post(path string, form url.Values) string {
	p.t.Helper()
	form.Set("csrf", p.csrf)
	resp, err := http.PostForm(p.url+path, form)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("POST %s: %s: %s", path, resp.Status, body)
	}
	return string(body)
}

// A call made in the studio against the sample back-end, saved as a
// transcript, passes `ventanilla flows test` at once: the back-end's
// answers are its mocks.
func TestStudioSavesATranscriptThatFlowsTestPasses(t *testing.T) {
	dir := t.TempDir()
	p := openStudio(t, dir)
	p.post("/send", url.Values{"phone": {"ussd"}, "call": {"1"}})
	var page string
	for _, answer := range []string{"1", "1", "1", "1", "1", "1714307103", "1", "5"} { // booked, then rated
		page = p.post("/send", url.Values{"phone": {"ussd"}, "text": {answer}})
	}
	if !strings.Contains(page, `id="ussd-end"`) {
		t.Fatalf("the booking did not end:\n%s", page)
	}
	page = p.post("/save", url.Values{"name": {"booked-in-the-studio"}})
	if !strings.Contains(page, "Saved ") {
		t.Fatalf("not saved: %s", page[strings.Index(page, `id="saved"`):])
	}
	path := filepath.Join(dir, "booked-in-the-studio.yaml")
	code, out, errs := runCLI(t, "", "flows", "test", path)
	if code != 0 {
		data, _ := os.ReadFile(path)
		t.Fatalf("flows test: exit %d\n%s%s\n--- the transcript\n%s", code, out, errs, data)
	}
	if data, _ := os.ReadFile(path); testing.Verbose() {
		t.Logf("%s", data)
	}
	if !strings.Contains(out, "1 passed, 0 failed") {
		t.Errorf("flows test says:\n%s", out)
	}
}

// The studio listens beyond loopback only with a token.
func TestStudioRefusesAnOpenAddressWithoutAToken(t *testing.T) {
	code, _, errs := runCLI(t, "", "studio", "--addr", "0.0.0.0:0")
	if code != 2 || !strings.Contains(errs, "give a --token") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// The demo serves the three phones at /simulator/, on its own flows and
// sample back-end; serve does not.
func TestDemoServesTheSimulatorAndServeDoesNot(t *testing.T) {
	backend := httptest.NewServer(sample.New(sample.Options{}))
	t.Cleanup(backend.Close)
	getenv := func(name string) (string, bool) {
		if name == "VENTANILLA_SAMPLE_URL" {
			return backend.URL, true
		}
		return "", false
	}
	log := slog.New(slog.DiscardHandler)
	app := func(demo bool) *httptest.Server {
		c := &config{Root: "inicio"}
		a, err := newApp(c, log, getenv, registry)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.store.Close() })
		srv := httptest.NewServer(a.echo)
		t.Cleanup(srv.Close)
		if demo {
			st, err := mountSimulator(a, c, getenv, log)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(st.Close)
		}
		return srv
	}
	demo := &studioPage{t: t, url: app(true).URL + "/simulator"}
	m := csrfRE.FindStringSubmatch(demo.get(""))
	if m == nil {
		t.Fatal("no simulator page at /simulator")
	}
	demo.csrf = m[1]
	page := demo.post("/send", url.Values{"phone": {"ussd"}, "call": {"1"}})
	if !strings.Contains(page, "Bienvenido a Ventanilla") {
		t.Fatalf("calling on the simulator shows:\n%s", page)
	}
	if css := demo.get("/assets/studio.css"); !strings.Contains(css, ".screen") {
		t.Error("the simulator's style sheet is not served under /simulator/")
	}
	resp, err := http.Get(app(false).URL + "/simulator/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("serve answers /simulator/ with %s, want 404", resp.Status)
	}
}

// No secret of the services file reaches a page or a saved transcript:
// the studio shows service names and the back-ends' answers only.
func TestStudioShowsNoSecret(t *testing.T) {
	backend := httptest.NewServer(sample.New(sample.Options{}))
	t.Cleanup(backend.Close)
	const secret = "k3y-0f-the-institution"
	t.Setenv("VENTANILLA_SAMPLE_URL", backend.URL)
	t.Setenv("STUDIO_TEST_API_KEY", secret)
	services := strings.Replace(string(catalogue.Services()), "  turnos.offices:\n    kind: rest\n",
		"  turnos.offices:\n    kind: rest\n    auth: {type: api_key, header: X-Api-Key, value: \"${STUDIO_TEST_API_KEY}\"}\n", 1)
	if !strings.Contains(services, "STUDIO_TEST_API_KEY") {
		t.Fatal("the catalogue's services changed: the test no longer sets a secret")
	}
	path := filepath.Join(t.TempDir(), "services.yaml")
	if err := os.WriteFile(path, []byte(services), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := openStudio(t, dir, "--services", path)
	p.post("/send", url.Values{"phone": {"ussd"}, "call": {"1"}})
	var pages []string
	for _, answer := range []string{"1", "1", "1"} {
		pages = append(pages, p.post("/send", url.Values{"phone": {"ussd"}, "text": {answer}}))
	}
	if !strings.Contains(pages[2], "Quito Norte") {
		t.Fatalf("the offices were not called:\n%s", pages[2])
	}
	pages = append(pages, p.post("/save", url.Values{"name": {"offices"}}))
	saved, err := os.ReadFile(filepath.Join(dir, "offices.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range append(pages, string(saved)) {
		if strings.Contains(text, secret) || strings.Contains(text, backend.URL) {
			t.Errorf("answer %d shows the secret or the back-end's address", i)
		}
	}
}

// An institution's package given with --packages shows in the studio's
// composed menu, after the catalogue's entries, and its entry opens its
// flow; a broken flow file of the package is seen by the live lint, which
// shows the problem at its file:line:col; "save as transcript" writes into
// the package's own transcripts.
func TestStudioServesAPackageAndLintsItLive(t *testing.T) {
	dir := t.TempDir()
	pkg := newPackage(t, dir, "transito", published)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status": "en revisión"}`)
	}))
	t.Cleanup(backend.Close)
	t.Setenv("TRANSITO_API_URL", backend.URL)
	t.Setenv("TRANSITO_API_KEY", "a-test-key")
	var c config
	fs := flagSet("studio", io.Discard, &c)
	if err := parseFlags(fs, []string{"--packages", dir}, &c); err != nil {
		t.Fatal(err)
	}
	st, stop, err := newStudio(&c, defaultTranscripts, "", os.LookupEnv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	t.Cleanup(st.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := st.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(st)
	t.Cleanup(srv.Close)
	p := &studioPage{t: t, url: srv.URL}
	m := csrfRE.FindStringSubmatch(p.get("/"))
	if m == nil {
		t.Fatal("no form token on the page")
	}
	p.csrf = m[1]

	page := p.post("/send", url.Values{"phone": {"ussd"}, "call": {"1"}})
	menu := p.post("/send", url.Values{"phone": {"ussd"}, "text": {"1"}})
	if !strings.Contains(menu, "1. Turnos") || !strings.Contains(menu, "4. Consulta transito") {
		t.Fatalf("the menu lacks the catalogue's and the package's entries:\n%s\n%s", page, menu)
	}
	if got := p.post("/send", url.Values{"phone": {"ussd"}, "text": {"4"}}); !strings.Contains(got, "Escriba el número de su solicitud:") {
		t.Fatalf("the package's entry opened:\n%s", got)
	}
	page = p.post("/send", url.Values{"phone": {"ussd"}, "text": {"12345"}})
	if !strings.Contains(page, "en revisión") {
		t.Fatalf("the package's back-end was not called:\n%s", page)
	}
	if saved := p.post("/save", url.Values{"name": {"consulta-en-el-studio"}}); !strings.Contains(saved, "Saved ") {
		t.Fatalf("not saved: %s", saved[strings.Index(saved, `id="saved"`):])
	}
	if _, err := os.Stat(filepath.Join(pkg, "testdata", "conversations", "consulta-en-el-studio.yaml")); err != nil {
		t.Errorf("the transcript is not among the package's: %v", err)
	}

	path := filepath.Join(pkg, "flows", "transito-consulta.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "    kind: input\n", "    kind: inptu\n", 1)
	if broken == string(data) {
		t.Fatal("the scaffold's flow changed: the test no longer breaks it")
	}
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	line := 1 + strings.Count(broken[:strings.Index(broken, "kind: inptu")], "\n")
	where := regexp.MustCompile(`transito-consulta\.yaml:` + itoa(line) + `:\d+`)
	testutil.WaitFor(t, "the package's problem on the page", func() bool {
		return strings.Contains(p.get("/panels"), "inptu")
	})
	if panels := p.get("/panels"); !where.MatchString(panels) {
		t.Errorf("the problem is not shown at transito-consulta.yaml:%d:col:\n%s", line, panels)
	}
}
