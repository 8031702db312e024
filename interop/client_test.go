package interop_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/interop"
)

// loopbackClient is the http.Client every test uses: any attempt to leave
// loopback fails the test instead of reaching the network.
func loopbackClient(t testing.TB) *http.Client {
	dialer := &net.Dialer{Timeout: time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
				t.Errorf("test tried to leave loopback: dial %s", addr)
				return nil, fmt.Errorf("tests dial loopback only, not %s", addr)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 64,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// backend serves h on loopback for the test's lifetime and returns its URL.
func backend(t testing.TB, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// reply answers with a status, a content type (nil: no Content-Type header
// at all) and a body.
func reply(status int, contentType *string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType == nil {
			w.Header()["Content-Type"] = nil // stop net/http from sniffing one
		} else {
			w.Header().Set("Content-Type", *contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func ct(s string) *string { return &s }

// call declares svc (ID "svc") against a fresh backend running h, and calls it.
func call(t *testing.T, h http.HandlerFunc, svc interop.Service, params map[string]any) interop.Response {
	t.Helper()
	svc.ID = "svc"
	svc.BaseURL = backend(t, h)
	c := interop.NewClient(interop.NewRegistry(svc), loopbackClient(t))
	return c.Call(context.Background(), "svc", params)
}

func TestCallOutcomes(t *testing.T) {
	jsonCT := ct("application/json")
	big := `{"pad":"` + strings.Repeat("x", 100) + `"}`
	tests := []struct {
		name     string
		h        http.HandlerFunc
		svc      interop.Service
		want     interop.Outcome
		wantErr  error
		wantBody string // "" means Body must be nil
	}{
		{name: "200 json", h: reply(200, jsonCT, `{"a":1}`), want: interop.OK, wantBody: `{"a":1}`},
		{name: "200 json with charset", h: reply(200, ct("application/json; charset=utf-8"), `[1]`), want: interop.OK, wantBody: `[1]`},
		{name: "201 vendor +json", h: reply(201, ct("application/vnd.turnos.v1+json"), `{"code":"T-1"}`), want: interop.OK, wantBody: `{"code":"T-1"}`},
		{name: "200 without content type, valid JSON", h: reply(200, nil, `{"a":1}`), want: interop.OK, wantBody: `{"a":1}`},
		{name: "204 no content", h: reply(204, nil, ``), want: interop.OK},
		{name: "200 empty body", h: reply(200, jsonCT, ``), want: interop.OK},
		{name: "200 invalid JSON", h: reply(200, jsonCT, `{"a":`), want: interop.Error, wantErr: interop.ErrNotJSON},
		{name: "200 without content type, not JSON", h: reply(200, nil, `hola`), want: interop.Error, wantErr: interop.ErrNotJSON},
		{name: "200 text/html", h: reply(200, ct("text/html; charset=utf-8"), `<html>Mantenimiento</html>`), want: interop.Error, wantErr: interop.ErrNotJSON},
		{name: "200 text/html even if the body parses", h: reply(200, ct("text/html"), `{"a":1}`), want: interop.Error, wantErr: interop.ErrNotJSON, wantBody: `{"a":1}`},
		{name: "404", h: reply(404, jsonCT, `{"error":"unknown_office"}`), want: interop.NotFound, wantBody: `{"error":"unknown_office"}`},
		{name: "404 plain text", h: reply(404, ct("text/plain"), "404 page not found\n"), want: interop.NotFound},
		{name: "400", h: reply(400, jsonCT, `{"error":"missing_field"}`), want: interop.Rejected, wantBody: `{"error":"missing_field"}`},
		{name: "409", h: reply(409, jsonCT, `{"error":"slot_taken"}`), want: interop.Rejected, wantBody: `{"error":"slot_taken"}`},
		{name: "422", h: reply(422, nil, ``), want: interop.Rejected},
		{name: "500", h: reply(500, jsonCT, `{"error":"boom"}`), want: interop.Error, wantErr: interop.ErrStatus, wantBody: `{"error":"boom"}`},
		{name: "503 html", h: reply(503, ct("text/html"), `<h1>down</h1>`), want: interop.Error, wantErr: interop.ErrStatus},
		{name: "302 is not followed", h: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://192.0.2.1/elsewhere", http.StatusFound)
		}, want: interop.Error, wantErr: interop.ErrStatus},
		{name: "body at the limit", h: reply(200, jsonCT, big), svc: interop.Service{MaxBody: int64(len(big))}, want: interop.OK, wantBody: big},
		{name: "body over the limit, declared", h: reply(200, jsonCT, big), svc: interop.Service{MaxBody: int64(len(big)) - 1}, want: interop.Error, wantErr: interop.ErrTooLarge},
		{name: "body over the limit, chunked", h: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `[`)
			w.(http.Flusher).Flush() // no Content-Length: the limit must hold while reading
			for range 10_000 {
				_, _ = io.WriteString(w, `"0123456789",`)
			}
			_, _ = io.WriteString(w, `0]`)
		}, want: interop.Error, wantErr: interop.ErrTooLarge},
		{name: "huge error body is dropped, outcome kept", h: reply(409, jsonCT, big), svc: interop.Service{MaxBody: 10}, want: interop.Rejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tt.h, tt.svc, nil)
			if r.Outcome != tt.want {
				t.Errorf("Outcome = %q, want %q (err %v)", r.Outcome, tt.want, r.Err)
			}
			if tt.wantErr != nil && !errors.Is(r.Err, tt.wantErr) {
				t.Errorf("Err = %v, want %v", r.Err, tt.wantErr)
			}
			if tt.wantErr == nil && r.Err != nil {
				t.Errorf("Err = %v, want nil", r.Err)
			}
			if string(r.Body) != tt.wantBody || (tt.wantBody == "" && r.Body != nil) {
				t.Errorf("Body = %q, want %q", r.Body, tt.wantBody)
			}
			if r.Status == 0 {
				t.Error("Status not set")
			}
			if r.Elapsed <= 0 {
				t.Error("Elapsed not set")
			}
		})
	}
}

func TestCallUnavailable(t *testing.T) {
	var hits atomic.Int32
	url := backend(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	c := interop.NewClient(interop.NewRegistry(
		interop.Service{ID: "off", BaseURL: url, Disabled: true},
	), loopbackClient(t))

	r := c.Call(context.Background(), "nope", nil)
	if r.Outcome != interop.Unavailable || !errors.Is(r.Err, interop.ErrUnknownService) {
		t.Errorf("unknown service: %q %v", r.Outcome, r.Err)
	}
	r = c.Call(context.Background(), "off", nil)
	if r.Outcome != interop.Unavailable || !errors.Is(r.Err, interop.ErrDisabled) {
		t.Errorf("disabled service: %q %v", r.Outcome, r.Err)
	}
	if hits.Load() != 0 {
		t.Error("a disabled service was called")
	}

	var nilReg *interop.Registry
	if r := interop.NewClient(nilReg, nil).Call(context.Background(), "any", nil); r.Outcome != interop.Unavailable {
		t.Errorf("nil registry: %q", r.Outcome)
	}
}

func TestCallTimeout(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}
	slowBody := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"a":`)
		w.(http.Flusher).Flush()
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}

	t.Run("service timeout", func(t *testing.T) {
		r := call(t, slow, interop.Service{Timeout: 50 * time.Millisecond}, nil)
		if r.Outcome != interop.Timeout || !errors.Is(r.Err, context.DeadlineExceeded) {
			t.Errorf("Outcome = %q, Err = %v", r.Outcome, r.Err)
		}
	})
	t.Run("body stalls after the headers", func(t *testing.T) {
		r := call(t, slowBody, interop.Service{Timeout: 300 * time.Millisecond}, nil)
		if r.Outcome != interop.Timeout || r.Status != 200 {
			t.Errorf("Outcome = %q, Status = %d, Err = %v", r.Outcome, r.Status, r.Err)
		}
	})
	t.Run("caller deadline shorter than the service timeout", func(t *testing.T) {
		c := interop.NewClient(interop.NewRegistry(interop.Service{
			ID: "svc", BaseURL: backend(t, slow), Timeout: time.Minute,
		}), loopbackClient(t))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if r := c.Call(ctx, "svc", nil); r.Outcome != interop.Timeout {
			t.Errorf("Outcome = %q, Err = %v", r.Outcome, r.Err)
		}
	})
	t.Run("caller already gone", func(t *testing.T) {
		c := interop.NewClient(interop.NewRegistry(interop.Service{
			ID: "svc", BaseURL: backend(t, slow),
		}), loopbackClient(t))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if r := c.Call(ctx, "svc", nil); r.Outcome != interop.Error || !errors.Is(r.Err, context.Canceled) {
			t.Errorf("Outcome = %q, Err = %v", r.Outcome, r.Err)
		}
	})
}

func TestCallTransportFailure(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c := interop.NewClient(interop.NewRegistry(interop.Service{
		ID: "svc", BaseURL: url, Path: "/citizens/{cedula}",
	}), loopbackClient(t))
	r := c.Call(context.Background(), "svc", map[string]any{"cedula": "1714307103"})
	if r.Outcome != interop.Error || r.Status != 0 || r.Err == nil {
		t.Fatalf("Outcome = %q, Status = %d, Err = %v", r.Outcome, r.Status, r.Err)
	}
	if strings.Contains(r.Err.Error(), "1714307103") {
		t.Errorf("Err leaks the cédula from the URL: %v", r.Err)
	}
}

// request is what the back-end saw.
type request struct {
	Method, EscapedPath, Query, ContentType, Accept, Host string
	Header                                                http.Header
	Body                                                  string
}

// recorder answers 200 {} and reports each request on the returned channel.
func recorder(t *testing.T) (http.HandlerFunc, <-chan request) {
	seen := make(chan request, 1)
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen <- request{
			Method: r.Method, EscapedPath: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept"),
			Host: r.Host, Header: r.Header, Body: string(body),
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}, seen
}

func TestCallPathParams(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"plain", map[string]any{"office": "quito-norte"}, "/offices/quito-norte/slots"},
		{"dot-dot-slash stays one segment", map[string]any{"office": "../admin"}, "/offices/..%2Fadmin/slots"},
		{"spaces stay one segment", map[string]any{"office": "Quito Norte"}, "/offices/Quito%20Norte/slots"},
		{"both", map[string]any{"office": "../ x"}, "/offices/..%2F%20x/slots"},
		{"query and fragment characters", map[string]any{"office": "a?b#c%d"}, "/offices/a%3Fb%23c%25d/slots"},
		{"non-ASCII", map[string]any{"office": "Peñaherrera"}, "/offices/Pe%C3%B1aherrera/slots"},
		{"int64 in full", map[string]any{"office": int64(1714307103)}, "/offices/1714307103/slots"},
		{"integral float64 in full", map[string]any{"office": float64(1714307103)}, "/offices/1714307103/slots"},
		{"bool", map[string]any{"office": true}, "/offices/true/slots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, seen := recorder(t)
			r := call(t, h, interop.Service{Path: "/offices/{office}/slots"}, tt.params)
			if r.Outcome != interop.OK {
				t.Fatalf("Outcome = %q, Err = %v", r.Outcome, r.Err)
			}
			if got := (<-seen).EscapedPath; got != tt.want {
				t.Errorf("path = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCallBadPathParams(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]any
		wantErr error
	}{
		{"missing", map[string]any{"other": "x"}, interop.ErrMissingParam},
		{"nil params", nil, interop.ErrMissingParam},
		{"empty would merge segments", map[string]any{"office": ""}, interop.ErrBadParam},
		{"dot-dot would climb", map[string]any{"office": ".."}, interop.ErrBadParam},
		{"dot", map[string]any{"office": "."}, interop.ErrBadParam},
		{"null", map[string]any{"office": nil}, interop.ErrBadParam},
		{"list", map[string]any{"office": []any{"a"}}, interop.ErrBadParam},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			r := call(t, func(http.ResponseWriter, *http.Request) { hits.Add(1) },
				interop.Service{Path: "/offices/{office}/slots"}, tt.params)
			if r.Outcome != interop.Error || !errors.Is(r.Err, tt.wantErr) {
				t.Errorf("Outcome = %q, Err = %v, want error %v", r.Outcome, r.Err, tt.wantErr)
			}
			if hits.Load() != 0 {
				t.Error("the back-end was called")
			}
		})
	}
}

func TestCallQuery(t *testing.T) {
	params := map[string]any{
		"office": "quito-norte", // used by the path, so not in the query
		"q":      "Quito Norte & Sur",
		"ñ":      "sí=1",
		"n":      int64(5),
		"f":      1.5,
		"all":    true,
		"unset":  nil,
		"day":    []any{"lun", "mar"},
	}
	for _, method := range []string{"GET", "DELETE"} {
		t.Run(method, func(t *testing.T) {
			h, seen := recorder(t)
			r := call(t, h, interop.Service{Method: method, Path: "/offices/{office}/slots"}, params)
			if r.Outcome != interop.OK {
				t.Fatalf("Outcome = %q, Err = %v", r.Outcome, r.Err)
			}
			got := <-seen
			const want = "all=true&day=lun&day=mar&f=1.5&n=5&q=Quito+Norte+%26+Sur&%C3%B1=s%C3%AD%3D1"
			if got.Method != method || got.Query != want || got.Body != "" {
				t.Errorf("%s ?%s body %q\nwant %s ?%s", got.Method, got.Query, got.Body, method, want)
			}
		})
	}

	t.Run("base_url query goes first", func(t *testing.T) {
		h, seen := recorder(t)
		url := backend(t, h)
		c := interop.NewClient(interop.NewRegistry(interop.Service{
			ID: "svc", BaseURL: url + "/v1/?canal=ussd", Path: "/offices",
		}), loopbackClient(t))
		c.Call(context.Background(), "svc", map[string]any{"city": "Quito"})
		if got := <-seen; got.EscapedPath != "/v1/offices" || got.Query != "canal=ussd&city=Quito" {
			t.Errorf("%s?%s", got.EscapedPath, got.Query)
		}
	})

	t.Run("a map cannot be a query value", func(t *testing.T) {
		r := call(t, reply(200, nil, "{}"), interop.Service{}, map[string]any{"m": map[string]any{}})
		if r.Outcome != interop.Error || !errors.Is(r.Err, interop.ErrBadParam) {
			t.Errorf("Outcome = %q, Err = %v", r.Outcome, r.Err)
		}
	})
}

func TestCallJSONBody(t *testing.T) {
	tests := []struct {
		name, method, path string
		params             map[string]any
		wantPath           string
		wantBody           map[string]any
	}{
		{"POST every param", "POST", "/appointments",
			map[string]any{"office": "quito-norte", "slot": "2026-11-24T09:00", "cedula": "1714307103", "n": int64(2), "ok": true, "none": nil},
			"/appointments",
			map[string]any{"office": "quito-norte", "slot": "2026-11-24T09:00", "cedula": "1714307103", "n": 2.0, "ok": true, "none": nil}},
		{"POST path params stay out of the body", "POST", "/appointments/{code}/cancel",
			map[string]any{"code": "T-4F7K2", "cedula": "1714307103"},
			"/appointments/T-4F7K2/cancel",
			map[string]any{"cedula": "1714307103"}},
		{"PUT with no params left sends {}", "PUT", "/appointments/{code}",
			map[string]any{"code": "T-4F7K2"},
			"/appointments/T-4F7K2",
			map[string]any{}},
		{"POST nil params sends {}", "POST", "/tickets", nil, "/tickets", map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, seen := recorder(t)
			r := call(t, h, interop.Service{Method: tt.method, Path: tt.path}, tt.params)
			if r.Outcome != interop.OK {
				t.Fatalf("Outcome = %q, Err = %v", r.Outcome, r.Err)
			}
			got := <-seen
			if got.Method != tt.method || got.EscapedPath != tt.wantPath || got.Query != "" {
				t.Errorf("request %s %s?%s, want %s %s", got.Method, got.EscapedPath, got.Query, tt.method, tt.wantPath)
			}
			if got.ContentType != "application/json" || got.Accept != "application/json" {
				t.Errorf("Content-Type %q, Accept %q", got.ContentType, got.Accept)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(got.Body), &body); err != nil || !reflect.DeepEqual(body, tt.wantBody) {
				t.Errorf("body %s (%v), want %v", got.Body, err, tt.wantBody)
			}
		})
	}

	t.Run("unencodable value", func(t *testing.T) {
		r := call(t, reply(200, nil, "{}"), interop.Service{Method: "POST"}, map[string]any{"c": make(chan int)})
		if r.Outcome != interop.Error || !errors.Is(r.Err, interop.ErrBadParam) {
			t.Errorf("Outcome = %q, Err = %v", r.Outcome, r.Err)
		}
	})
}

func TestCallHeaders(t *testing.T) {
	h, seen := recorder(t)
	url := backend(t, h)
	reg, err := interop.ParseRegistry("services.yaml", []byte(`
services:
  svc:
    base_url: ${URL}
    headers:
      X-Api-Key: ${KEY}
      Accept: application/vnd.turnos+json
      Host: turnos.example.gob.ec
`), env(map[string]string{"URL": url, "KEY": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if r := interop.NewClient(reg, loopbackClient(t)).Call(context.Background(), "svc", nil); r.Outcome != interop.OK {
		t.Fatalf("Outcome = %q, Err = %v", r.Outcome, r.Err)
	}
	got := <-seen
	if got.Header.Get("X-Api-Key") != "s3cret" || got.Accept != "application/vnd.turnos+json" ||
		got.Host != "turnos.example.gob.ec" || got.Header.Get("User-Agent") != "ventanilla" {
		t.Errorf("headers %v, Host %q", got.Header, got.Host)
	}
}

func TestResponseGet(t *testing.T) {
	r := interop.Response{Body: []byte(`{
		"code": "T-4F7K2",
		"cedula": 1714307103,
		"two": 2.0,
		"thousand": 1e3,
		"half": 0.5,
		"huge": 12345678901234567890,
		"ok": true,
		"none": null,
		"slots": [{"id": "2026-11-24T09:00", "n": 1}, {"id": "2026-11-24T10:30", "n": 2}],
		"office": {"id": "cuenca", "open": false}
	}`)}
	tests := []struct {
		path string
		want any
	}{
		{"code", "T-4F7K2"},
		{"cedula", int64(1714307103)},
		{"two", int64(2)},
		{"thousand", int64(1000)},
		{"half", 0.5},
		{"huge", 12345678901234567890.0},
		{"ok", true},
		{"none", nil},
		{"missing", nil},
		{"slots.1.id", "2026-11-24T10:30"},
		{"slots.#", int64(2)},
		{"slots.#.id", []any{"2026-11-24T09:00", "2026-11-24T10:30"}},
		{"slots.0", map[string]any{"id": "2026-11-24T09:00", "n": int64(1)}},
		{"office", map[string]any{"id": "cuenca", "open": false}},
	}
	for _, tt := range tests {
		if got := r.Get(tt.path); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Get(%q) = %#v, want %#v", tt.path, got, tt.want)
		}
	}

	list := interop.Response{Body: []byte(`[{"id":"quito-norte"},{"id":"cuenca"}]`)}
	for _, path := range []string{"", "@this"} {
		want := []any{map[string]any{"id": "quito-norte"}, map[string]any{"id": "cuenca"}}
		if got := list.Get(path); !reflect.DeepEqual(got, want) {
			t.Errorf("Get(%q) = %#v", path, got)
		}
	}
	if got := (interop.Response{}).Get("a"); got != nil {
		t.Errorf("Get on no body = %#v", got)
	}
	if got := (interop.Response{Body: []byte(`[]`)}).Get(""); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("empty list = %#v, want []any{}", got)
	}
}

func TestResponseLogValueOmitsBody(t *testing.T) {
	var out strings.Builder
	log := slog.New(slog.NewTextHandler(&out, nil))
	log.Info("call", "response", interop.Response{
		Outcome: interop.OK, Status: 200, Body: []byte(`{"cedula":"1714307103"}`), Elapsed: time.Millisecond,
	})
	if s := out.String(); strings.Contains(s, "1714307103") || !strings.Contains(s, "response.outcome=ok") {
		t.Errorf("log line: %s", s)
	}
}

// A call that changes something carries the idempotency key of its
// context, the same on every attempt; a GET carries none, and neither
// does a key that could break the header.
func TestIdempotencyKey(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	fails := 1
	h := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, r.Header.Get(interop.HeaderIdempotencyKey))
		if fails > 0 {
			fails--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"code":"T-1"}`)
	}
	fast := interop.Retry{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	for _, tt := range []struct {
		method, key string
		want        []string
	}{
		{"POST", "vt1-4f7k2", []string{"vt1-4f7k2", "vt1-4f7k2"}},
		{"PUT", "vt1-4f7k2", []string{"vt1-4f7k2", "vt1-4f7k2"}},
		{"DELETE", "vt1-4f7k2", []string{"vt1-4f7k2", "vt1-4f7k2"}},
		{"GET", "vt1-4f7k2", []string{"", ""}},
		{"POST", "a\r\nX-Evil: 1", []string{"", ""}},
		{"POST", "", []string{"", ""}},
	} {
		t.Run(tt.method+" "+strconv.Quote(tt.key), func(t *testing.T) {
			mu.Lock()
			keys, fails = nil, 1
			mu.Unlock()
			svc := interop.Service{ID: "svc", BaseURL: backend(t, h), Method: tt.method, Idempotent: true, Retry: fast}
			c := interop.NewClient(interop.NewRegistry(svc), loopbackClient(t))
			r := c.Call(interop.WithIdempotencyKey(context.Background(), tt.key), "svc", map[string]any{"a": "b"})
			mu.Lock()
			defer mu.Unlock()
			if r.Outcome != interop.OK || !slices.Equal(keys, tt.want) {
				t.Errorf("outcome %s, keys sent %q, want %q", r.Outcome, keys, tt.want)
			}
		})
	}
}
