package studio

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The diagram is the flow the conversation is in, with its step marked
// current, and the steps no transcript reaches drawn apart.
func TestDiagramMarksTheCurrentStepAndTheStepsNoTranscriptVisits(t *testing.T) {
	f := newFixture(t, false)
	// Only the booking transcript: cancelling a turno is not covered.
	for _, name := range f.Studio.transcripts() {
		if name != "turnos-book-es.yaml" {
			os.Remove(filepath.Join(f.transcripts, name))
		}
	}
	f.cover(t.Context())
	f.settings(t, map[string][]string{"mocks": {"turnos-book-es.yaml"}, "citizen": {"returning"}})
	f.send(t, PhoneUSSD, "")
	f.send(t, PhoneUSSD, "1")
	page := f.send(t, PhoneUSSD, "1") // the offices
	for _, want := range []string{
		`<h2 id="diagram-h">Diagram of turnos</h2>`,
		`<g class="node current" data-step="pick_office">`,
		`<g class="node uncovered" data-step="confirm_cancel">`,
		`<g class="node" data-step="book">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the diagram lacks %s", want)
		}
	}
	if !strings.Contains(page, "Steps no transcript visits: ") || !strings.Contains(page, "confirm_cancel") {
		t.Error("the steps no transcript visits are not listed")
	}
}

// Beyond loopback the studio wants its token: from the address it printed
// (then a cookie), and from nowhere else.
func TestTokenGuardsAStudioBeyondLoopback(t *testing.T) {
	f := newFixture(t, false)
	f.opts.Token = "s3cret"
	get := func(path string, cookie *http.Cookie, host string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = host
		if cookie != nil {
			req.AddCookie(cookie)
		}
		w := httptest.NewRecorder()
		f.ServeHTTP(w, req)
		return w.Result()
	}
	host := "studio.example:8099"
	if r := get("/", nil, host); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %s, want 401", r.Status)
	}
	if r := get("/?token=wrong", nil, host); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("with a wrong token: %s, want 401", r.Status)
	}
	r := get("/?token=s3cret", nil, host)
	if r.StatusCode != http.StatusOK || len(r.Cookies()) != 1 {
		t.Fatalf("with the token: %s and %d cookies", r.Status, len(r.Cookies()))
	}
	if r := get("/panels", r.Cookies()[0], host); r.StatusCode != http.StatusOK {
		t.Errorf("with the token's cookie: %s, want 200", r.Status)
	}
}
