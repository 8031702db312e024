package carriertest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Suite says how to talk to one adapter; each Case is one request to it.
// Run is the one loop over captured payloads that every adapter's tests
// share, so that a check added here holds for every carrier.
type Suite struct {
	// New builds a fresh adapter for c. The returned function, when not
	// nil, runs after the request with what was seen, for checks of side
	// effects only the adapter's test knows (a queued reply).
	New func(t *testing.T, c Case) (carrier.Carrier, func(t *testing.T, r Result))
	// Path and ContentType are sent when a case names none.
	Path        string
	ContentType string
	// InQuery sends a case's payload as the URL's query string of a GET
	// (Kannel's get-url) instead of as the body of a POST.
	InQuery bool
	// Send sends one request; Do when nil (an adapter that checks
	// signatures signs here).
	Send func(h http.Handler, method, path, contentType string, body io.Reader) *httptest.ResponseRecorder
	// Hop is what the hopper answers to every accepted request.
	Hop carrier.Reply
	// ReplyType, when set, is the Content-Type every accepted request is
	// answered with.
	ReplyType string
	// Decode reads an accepted reply's body into the value a case's
	// WantReply is compared with (reflect.DeepEqual); it may fail t when
	// the body breaks the provider's format.
	Decode func(t *testing.T, body []byte) any
	// SeqFromID says the adapter numbers hops from the provider's message
	// id: an Inbound's Seq must be positive, and its value is not compared.
	SeqFromID bool
}

// Case is one request and what must come of it.
type Case struct {
	Name string // the subtest's name; File without its extension when empty
	// File is sent as the body from testdata/; Body is sent when File is
	// empty.
	File        string
	Body        string
	Method      string // POST when empty (GET with Suite.InQuery)
	ContentType string // the suite's when empty; "-" sends none
	// Hopper stands in for the gateway; one answering Suite.Hop when nil.
	Hopper *Hopper
	// Options are the adapter's options for this case, for Suite.New to
	// read; nil means the defaults.
	Options any

	WantStatus int
	// WantBody is the response body exactly, and WantBodyPrefix its
	// beginning; neither is checked when empty.
	WantBody       string
	WantBodyPrefix string
	// WantReply, when not nil, is what Suite.Decode must make of the body
	// of an accepted request.
	WantReply any
	// WantIn is what the hopper must be given, once. When nil, a request
	// answered 2xx must reach the hopper once (its Inbound unchecked) and
	// any other must not reach it.
	WantIn *carrier.Inbound
	// WantExternalID is the provider's id for the message, for the
	// suite's own checks (a reply queued under a key derived from it).
	WantExternalID string
}

// Result is what one request produced.
type Result struct {
	Rec   *httptest.ResponseRecorder
	Calls []carrier.Inbound
}

// Run sends every case through the adapter mounted on a real echo router
// and checks the status, the body, the reply and the Inbound handed to
// the gateway.
func Run(t *testing.T, s Suite, cases []Case) {
	t.Helper()
	for _, c := range cases {
		name := c.Name
		if name == "" {
			name = strings.TrimSuffix(c.File, filepath.Ext(c.File))
		}
		t.Run(name, func(t *testing.T) { s.run(t, c) })
	}
}

func (s Suite) run(t *testing.T, c Case) {
	body := []byte(c.Body)
	if c.File != "" {
		body = Testdata(t, c.File)
	}
	method, target := cmp(c.Method, http.MethodPost), s.Path
	if s.InQuery {
		method, target = cmp(c.Method, http.MethodGet), s.Path+"?"+string(body)
		body = nil
	}
	ct := cmp(c.ContentType, s.ContentType)
	if ct == "-" {
		ct = ""
	}
	send := s.Send
	if send == nil {
		send = Do
	}
	adapter, after := s.New(t, c)
	hopper := c.Hopper
	if hopper == nil {
		hopper = &Hopper{Reply: s.Hop}
	}
	rec := send(Router(adapter, hopper), method, target, ct, bytes.NewReader(body))
	if rec.Code != c.WantStatus {
		t.Fatalf("status %d, want %d; body %q", rec.Code, c.WantStatus, rec.Body.String())
	}
	if c.WantBody != "" && rec.Body.String() != c.WantBody {
		t.Errorf("body %q, want %q", rec.Body.String(), c.WantBody)
	}
	if !strings.HasPrefix(rec.Body.String(), c.WantBodyPrefix) {
		t.Errorf("body %q, want prefix %q", rec.Body.String(), c.WantBodyPrefix)
	}
	calls := hopper.Calls()
	accepted := rec.Code >= 200 && rec.Code < 300
	if !accepted {
		if len(calls) != 0 {
			t.Fatalf("hopper called with %+v for a rejected request", calls[0])
		}
	} else {
		if s.ReplyType != "" {
			if got := rec.Header().Get(echo.HeaderContentType); got != s.ReplyType {
				t.Errorf("Content-Type %q, want %q", got, s.ReplyType)
			}
		}
		if c.WantReply != nil {
			if r := s.Decode(t, rec.Body.Bytes()); !reflect.DeepEqual(r, c.WantReply) {
				t.Errorf("reply:\n got %+v\nwant %+v", r, c.WantReply)
			}
		}
		if len(calls) != 1 {
			t.Fatalf("hopper called %d times, want 1", len(calls))
		}
		if c.WantIn != nil {
			got := calls[0]
			if s.SeqFromID {
				if got.Seq <= 0 {
					t.Errorf("Seq %d, want a positive id-derived number", got.Seq)
				}
				got.Seq = 0
			}
			if got != *c.WantIn {
				t.Errorf("Inbound:\n got %+v\nwant %+v", got, *c.WantIn)
			}
		}
	}
	if after != nil {
		after(t, Result{Rec: rec, Calls: calls})
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
