package flowcall_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/interop"
	"github.com/ventanilla-gob/ventanilla/interop/flowcall"
)

// The flow language's outcomes are interop's, name for name and in order:
// a call step can route on every way a call ends, and on nothing else.
func TestOutcomesAreInterops(t *testing.T) {
	var want []flows.Outcome
	for _, o := range interop.Outcomes() {
		want = append(want, flows.Outcome(o))
	}
	if got := flows.Outcomes(); !slices.Equal(got, want) {
		t.Errorf("flows.Outcomes() = %v, interop's are %v", got, want)
	}
}

type backend struct {
	resp interop.Response
	fx   map[string]bool
}

func (b *backend) Call(ctx context.Context, _ string, _ map[string]any) interop.Response {
	return b.resp
}

type effects struct{ *backend }

func (e effects) Effects(service string) bool { return e.fx[service] }

func TestCallPassesTheResponseThrough(t *testing.T) {
	b := &backend{resp: interop.Response{Outcome: interop.OK, Status: 200, Body: []byte(`{"slots":[{"id":7}]}`),
		Elapsed: time.Second, CorrelationID: "xr-1", Err: errors.New("why")}}
	r := flowcall.Caller(b).Call(context.Background(), flows.Request{Service: "s", IdempotencyKey: "vt1-k", UserID: "EC1714307103"})
	if r.Outcome != flows.OK || r.Elapsed != time.Second || r.CorrelationID != "xr-1" || r.Err == nil {
		t.Errorf("response %+v", r)
	}
	if v := r.Get("slots.0.id"); v != int64(7) {
		t.Errorf("Get(slots.0.id) = %#v, want int64(7)", v)
	}
	if v := r.Get("nope"); v != nil {
		t.Errorf("Get(nope) = %#v, want nil", v)
	}
}

func TestEffectsDefaultsToTrue(t *testing.T) {
	b := &backend{fx: map[string]bool{"read": false, "book": true}}
	if fx := flowcall.Caller(b).(flows.Effects); !fx.Effects("read") {
		t.Error("a backend that cannot tell must be taken to change something")
	}
	c := flowcall.Caller(effects{b}).(flows.Effects)
	if c.Effects("read") || !c.Effects("book") {
		t.Error("the backend's own answer is not passed on")
	}
}

// The step's idempotency key reaches the back-end in the header interop
// sends it in, so a retried booking books once.
func TestCallSendsTheIdempotencyKey(t *testing.T) {
	keys := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Header.Get(interop.HeaderIdempotencyKey)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"code":"T-1"}`)
	}))
	defer srv.Close()
	reg, err := interop.ParseRegistry("services.yaml", []byte("services:\n  book:\n    base_url: ${URL}\n    method: POST\n"),
		func(string) (string, bool) { return srv.URL, true })
	if err != nil {
		t.Fatal(err)
	}
	c := flowcall.Caller(interop.NewClient(reg, srv.Client()))
	r := c.Call(t.Context(), flows.Request{Service: "book", IdempotencyKey: "vt1-0123abcd", UserID: "EC1714307103"})
	if r.Outcome != flows.OK || r.Get("code") != "T-1" {
		t.Fatalf("response %+v, err %v", r, r.Err)
	}
	if got := <-keys; got != "vt1-0123abcd" {
		t.Errorf("Idempotency-Key %q, want the step's key", got)
	}
	if !c.(flows.Effects).Effects("book") {
		t.Error("a POST service changes something")
	}
}
