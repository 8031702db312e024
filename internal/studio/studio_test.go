package studio

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

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/flowtest"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// goldens is the catalogue's transcripts, from the root of the module.
var goldens = filepath.Join("..", "..", "testdata", "conversations")

// fixture is a studio on flows in dir ("" for the embedded catalogue),
// with the catalogue's transcripts copied into a directory of its own.
type fixture struct {
	*Studio
	srv         *httptest.Server
	dir         string // the flows, when on disk
	transcripts string
}

func newFixture(t *testing.T, onDisk bool) *fixture {
	t.Helper()
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{transcripts: t.TempDir()}
	copyDir(t, goldens, f.transcripts, "*.yaml")
	if onDisk {
		// The catalogue's flows as an author's folder holds them: one
		// file each, the national menu (inicio) among them.
		f.dir = t.TempDir()
		for _, src := range catalogue.Sources() {
			if err := os.WriteFile(filepath.Join(f.dir, filepath.Base(src.Name)), src.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	load := func() (*flows.Registry, flows.Problems, error) {
		srcs := catalogue.Sources()
		if onDisk {
			files, err := flows.ListDir(f.dir)
			if err != nil {
				return nil, nil, err
			}
			if srcs, err = flows.ReadFiles(context.Background(), files); err != nil {
				return nil, nil, err
			}
		}
		reg, ps := flows.Load(srcs, flows.Env{Messages: msgs})
		if ps.HasErrors() {
			return nil, ps, nil
		}
		return reg, ps, nil
	}
	st, err := New(Options{
		Load: load, Messages: msgs, Root: "inicio", Services: unavailable{},
		ServiceNames: []string{"turnos.book", "turnos.offices", "turnos.slots"},
		Transcripts:  f.transcripts, Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Studio = st
	f.srv = httptest.NewServer(st)
	t.Cleanup(f.srv.Close)
	t.Cleanup(st.Close) // first: a page's event stream would hold srv.Close
	return f
}

func copyDir(t *testing.T, from, to, pattern string) {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(from, pattern))
	if err != nil || len(m) == 0 {
		t.Fatalf("no %s in %s: %v", pattern, from, err)
	}
	for _, p := range m {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(p)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// unavailable stands for back-ends the tests never reach.
type unavailable struct{}

func (unavailable) Call(context.Context, string, map[string]any) interop.Response {
	return interop.Response{Outcome: interop.Unavailable}
}

// post sends a form as the page does and returns the page after it.
func (f *fixture) post(t *testing.T, path string, form url.Values) string {
	t.Helper()
	form.Set("csrf", f.csrf)
	resp, err := http.PostForm(f.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s\n%s", path, resp.Status, body)
	}
	return string(body)
}

func (f *fixture) settings(t *testing.T, v url.Values) {
	t.Helper()
	for k, d := range map[string]string{"lang": "es", "citizen": "new", "level": "verified"} {
		if v.Get(k) == "" {
			v.Set(k, d)
		}
	}
	f.post(t, "/settings", v)
}

func (f *fixture) send(t *testing.T, phone, text string) string {
	t.Helper()
	v := url.Values{"phone": {phone}, "text": {text}}
	f.Studio.mu.Lock()
	open := f.conv.open
	f.Studio.mu.Unlock()
	if !open {
		v.Set("call", "1")
	}
	return f.post(t, "/send", v)
}

var screenRE = regexp.MustCompile(`(?s)<pre class="screen[^"]*" id="ussd-screen"[^>]*>(.*?)</pre>`)

// ussdScreen is the feature phone's screen on the page, as text.
func ussdScreen(t *testing.T, page string) string {
	t.Helper()
	m := screenRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no USSD screen on the page:\n%s", page)
	}
	return unescape(m[1])
}

func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&amp;", "&").Replace(s)
}

// A booking played on the feature phone shows the golden transcript's
// screens one by one, and the SMS thread and the chat follow.
func TestBookingShowsTheGoldenScreensOnEveryPhone(t *testing.T) {
	f := newFixture(t, false)
	f.settings(t, url.Values{"mocks": {"turnos-book-es.yaml"}})
	golden, err := flowtest.ReadFile(filepath.Join(goldens, "turnos-book-es.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var page string
	for i, h := range golden.Hops {
		page = f.send(t, PhoneUSSD, h.Send)
		if got, want := ussdScreen(t, page), strings.TrimRight(h.Screen, "\n"); got != want {
			t.Fatalf("hop %d (send %q):\n--- want\n%s\n--- got\n%s", i+1, h.Send, want, got)
		}
		if h.End != strings.Contains(page, `id="ussd-end"`) {
			t.Errorf("hop %d: END shown is %v, want %v", i+1, !h.End, h.End)
		}
	}
	for _, want := range []string{"GSM-7 · 1 segment", "Citizen (on the feature phone):", "T-4F7K2"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// An answer typed in the SMS thread or pressed on a chat button moves the
// same conversation: the feature phone shows the next screen.
func TestSMSAndChatDriveTheSameConversation(t *testing.T) {
	f := newFixture(t, false)
	f.settings(t, url.Values{"mocks": {"turnos-book-es.yaml"}})
	f.send(t, PhoneUSSD, "")
	page := f.send(t, PhoneSMS, "1") // Español
	if got := ussdScreen(t, page); !strings.HasPrefix(got, "Ventanilla ciudadana") {
		t.Fatalf("after an SMS answer the feature phone shows\n%s", got)
	}
	if !strings.Contains(page, `class="chat-button">Turnos</button>`) {
		t.Fatalf("the chat shows no button for Turnos:\n%s", page)
	}
	page = f.send(t, PhoneChat, "1") // the Turnos button
	if got := ussdScreen(t, page); !strings.HasPrefix(got, "Turnos") {
		t.Fatalf("after a chat button the feature phone shows\n%s", got)
	}
	if !strings.Contains(page, "Citizen (on the chat):") {
		t.Error("the SMS thread does not show the answer given on the chat")
	}
}

// A returning citizen is greeted in the language remembered, and one who
// hung up mid-trámite is offered to continue when calling again.
func TestReturningCitizenIsOfferedToResume(t *testing.T) {
	f := newFixture(t, false)
	f.settings(t, url.Values{"citizen": {"returning"}, "lang": {"en"}, "mocks": {"turnos-book-es.yaml"}})
	page := f.send(t, PhoneUSSD, "")
	if got := ussdScreen(t, page); !strings.Contains(got, "1. Appointments") {
		t.Fatalf("a returning citizen who chose English sees\n%s", got)
	}
	f.send(t, PhoneUSSD, "1")
	f.send(t, PhoneUSSD, "1") // book: the offices
	f.post(t, "/hangup", url.Values{})
	page = f.send(t, PhoneUSSD, "")
	if got := ussdScreen(t, page); !strings.Contains(got, "1. Continue") {
		t.Fatalf("calling again after hanging up shows\n%s", got)
	}
}

// A flow of level 1 asks for a verified number: without one the citizen
// is told, and a transcript cannot be saved.
func TestUnverifiedNumber(t *testing.T) {
	f := newFixture(t, false)
	f.settings(t, url.Values{"level": {"unverified"}, "start": {"turnos"}})
	page := f.send(t, PhoneUSSD, "")
	if got := ussdScreen(t, page); !strings.Contains(got, "número verificado") {
		t.Errorf("a level 1 flow without a verified number shows\n%s", got)
	}
	page = f.post(t, "/save", url.Values{"name": {"unverified.yaml"}})
	if !strings.Contains(page, "Not saved: a transcript&#39;s citizen has a verified number") {
		t.Errorf("saving a call without a verified number says:\n%s", savedLine(page))
	}
	if _, err := os.Stat(filepath.Join(f.transcripts, "unverified.yaml")); err == nil {
		t.Error("the transcript was written")
	}
}

func savedLine(page string) string {
	if _, after, ok := strings.Cut(page, `<p id="saved" role="status">`); ok {
		line, _, _ := strings.Cut(after, "</p>")
		return line
	}
	return "(nothing)"
}

// Each call answers as picked for its service.
func TestPickedAnswers(t *testing.T) {
	f := newFixture(t, false)
	f.settings(t, url.Values{"mocks": {"turnos-book-es.yaml"}, "citizen": {"returning"}})
	f.post(t, "/picks", url.Values{"pick.turnos.offices": {PickError}})
	f.send(t, PhoneUSSD, "")
	f.send(t, PhoneUSSD, "1")
	page := f.send(t, PhoneUSSD, "1")
	if got := ussdScreen(t, page); strings.Contains(got, "Quito Norte") || !strings.Contains(page, `id="ussd-end"`) {
		t.Fatalf("with turnos.offices answering error the citizen sees\n%s", got)
	}
	if code := f.status(t, "/picks", url.Values{"csrf": {f.csrf}, "pick.turnos.offices": {"teapot"}}); code != http.StatusBadRequest {
		t.Errorf("an unknown answer: %d, want 400", code)
	}
}

// status posts form as it is and returns the status.
func (f *fixture) status(t *testing.T, path string, form url.Values, header ...string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The studio refuses what another site could make a browser send: a form
// without the page's token, a request from another origin, a name other
// than loopback's (DNS rebinding).
func TestCrossSiteRequestsAreRefused(t *testing.T) {
	f := newFixture(t, false)
	send := url.Values{"phone": {"ussd"}, "call": {"1"}}
	if code := f.status(t, "/send", send); code != http.StatusForbidden {
		t.Errorf("without the token: %d, want 403", code)
	}
	with := url.Values{"phone": {"ussd"}, "call": {"1"}, "csrf": {f.csrf}}
	if code := f.status(t, "/send", with, "Origin", "http://evil.example"); code != http.StatusForbidden {
		t.Errorf("from another origin: %d, want 403", code)
	}
	if code := f.status(t, "/send", with, "Host", "evil.example:80"); code != http.StatusForbidden {
		t.Errorf("under another name: %d, want 403", code)
	}
	if code := f.status(t, "/send", with, "Origin", f.srv.URL); code != http.StatusOK {
		t.Errorf("the page's own form: %d, want 200", code)
	}
	f.Studio.mu.Lock()
	dials := f.conv.dial
	f.Studio.mu.Unlock()
	if dials != 1 {
		t.Errorf("%d calls made, want only the page's own", dials)
	}
}
