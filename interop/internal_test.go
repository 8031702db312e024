package interop

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/suggest"
)

// The services file accepts exactly the fields Service declares.
func TestServiceFieldsMatchYAMLTags(t *testing.T) {
	var tags []string
	typ := reflect.TypeFor[Service]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if tag := f.Tag.Get("yaml"); f.IsExported() && tag != "-" {
			tags = append(tags, tag)
		}
	}
	// A protocol may keep its own block out of Service (as soap does).
	for _, p := range protocols {
		for name := range p.fields() {
			if !slices.Contains(tags, name) {
				tags = append(tags, name)
			}
		}
	}
	slices.Sort(tags)
	if fields := sortedKeys(serviceFields); !slices.Equal(tags, fields) {
		t.Errorf("Service yaml tags %q, parser fields %q", tags, fields)
	}
}

func TestExpandEnv(t *testing.T) {
	getenv := func(name string) (string, bool) {
		v, ok := map[string]string{"A": "1", "B": "two", "EMPTY": ""}[name]
		return v, ok
	}
	tests := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${A}", "1", ""},
		{"x${A}y${B}z", "x1ytwoz", ""},
		{"${EMPTY}", "", ""},
		{"$A and $ and $$", "$A and $ and $$", ""},
		{"${A", "", `unclosed "${"`},
		{"${}", "", "invalid variable name ${}"},
		{"${A-B}", "", "invalid variable name ${A-B}"},
		{"${NOPE}", "", "environment variable NOPE is not set"},
		{"${X}${Y}${X}", "", "environment variables X, Y are not set"},
	}
	for _, tt := range tests {
		got, err := expandEnv(tt.in, getenv)
		if (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err || err == nil && got != tt.want {
			t.Errorf("expandEnv(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := sortedKeys(serviceFields)
	for in, want := range map[string]string{
		"methd": "method", "base-url": "base_url", "timout": "timeout", "header": "headers",
		"retries": "", "x": "",
	} {
		if got := suggest.Closest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseRegistry: whatever an operator writes, the parser answers with a
// registry or positioned errors, never a panic.
func FuzzParseRegistry(f *testing.F) {
	f.Add([]byte("services:\n  a:\n    base_url: ${URL}\n    path: /x/{id}\n    headers: {K: v}\n"))
	f.Add([]byte("services:\n  a: &a {base_url: http://x}\n  b: *a\n"))
	f.Add([]byte("services: [1, 2]\n"))
	f.Add([]byte("- a\n"))
	f.Add([]byte("services:\n  x:\n    kind: xroad-rest\n    base_url: https://ss\n    xroad: {client: EC/GOB/1/GW, service: EC/GOB/2/R/svc}\n" +
		"    auth: {type: bearer, token: \"${T}\"}\n    retry: {attempts: 3, backoff: 10ms}\n    breaker: {failures: 2, open_for: 1s}\n" +
		"    rate: {per_second: 1.5, burst: 2}\n    cache: 1m\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, err := ParseRegistry("f.yaml", data, func(string) (string, bool) { return "http://127.0.0.1", true })
		if err != nil {
			if reg != nil {
				t.Error("registry and error")
			}
			if !strings.HasPrefix(err.Error(), "f.yaml:") {
				t.Errorf("unpositioned error: %v", err)
			}
			return
		}
		for _, id := range reg.IDs() {
			s, _ := reg.Lookup(id)
			if s.Timeout <= 0 || s.MaxBody <= 0 || s.prefix == "" {
				t.Errorf("service %q not prepared: %+v", id, s)
			}
		}
	})
}

// FuzzPathTemplate: a compiled template renders any string param into
// exactly one path segment.
func FuzzPathTemplate(f *testing.F) {
	f.Add("/offices/{office}/slots", "../ x")
	f.Add("/a/{x}.json", "%2F")
	f.Add("/{x}", "..")
	f.Fuzz(func(t *testing.T, path, value string) {
		tmpl, err := parsePath(path)
		if err != nil || len(tmpl.params) == 0 {
			return
		}
		params := map[string]any{}
		for _, p := range tmpl.params {
			params[p] = value
		}
		var b strings.Builder
		if err := tmpl.render(&b, params); err != nil {
			return
		}
		literalSlashes := 0
		for _, part := range tmpl.parts {
			literalSlashes += strings.Count(part.lit, "/")
		}
		if got := strings.Count(b.String(), "/"); got != literalSlashes {
			t.Errorf("render(%q, %q) = %q: %d slashes, template has %d", path, value, b.String(), got, literalSlashes)
		}
	})
}

// FuzzResponseGet: any valid JSON body a back-end sends reads back as
// session values without panicking, and those values encode as JSON again.
func FuzzResponseGet(f *testing.F) {
	f.Add([]byte(`[{"id":"2026-11-24T09:00","n":1}]`), "0.id")
	f.Add([]byte(`{"a":{"b":[1,2.5,1e400,-0,null,true]}}`), "a.b")
	f.Add([]byte(`12345678901234567890`), "")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		if !json.Valid(body) {
			return
		}
		v := Response{Body: body}.Get(path)
		if _, err := json.Marshal(v); err != nil && !strings.Contains(err.Error(), "unsupported value") {
			t.Errorf("Get(%q) on %s = %#v: %v", path, body, v, err)
		}
	})
}

// FuzzXRoadOutcome: whatever type an X-Road error names, it maps to a
// valid Outcome, never OK or NotFound.
func FuzzXRoadOutcome(f *testing.F) {
	for _, typ := range []string{"Client.BadRequest", "Server.ServerProxy.ServiceFailed", "Server.ClientProxy.Timeout", "Server.", ""} {
		f.Add(typ)
	}
	f.Fuzz(func(t *testing.T, typ string) {
		if o := xroadOutcome(typ); !o.Valid() || o == OK || o == NotFound {
			t.Errorf("xroadOutcome(%q) = %q", typ, o)
		}
	})
}

// recorder is a protocol that waits out each attempt's deadline and
// records it.
type recorder struct {
	restProtocol
	mu        sync.Mutex
	deadlines []time.Time
}

func (rec *recorder) call(ctx context.Context, _ *http.Client, _ *Service, _ map[string]any) Response {
	d, _ := ctx.Deadline()
	rec.mu.Lock()
	rec.deadlines = append(rec.deadlines, d)
	rec.mu.Unlock()
	<-ctx.Done()
	return failure(ctx, ctx.Err())
}

// No attempt, first or retry, may run past the caller's deadline less the
// margin, however the clock and the scheduler behave.
func TestAttemptDeadlines(t *testing.T) {
	for _, tt := range []struct {
		name    string
		timeout time.Duration
		caller  time.Duration
	}{
		{"the budget is shorter than the service's timeout", 5 * time.Second, 300 * time.Millisecond},
		{"retries until the budget runs out", 60 * time.Millisecond, 400 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const margin = 50 * time.Millisecond
			rec := &recorder{}
			c := NewClient(NewRegistry(Service{
				ID: "svc", BaseURL: "http://127.0.0.1:9", Timeout: tt.timeout,
				Retry: Retry{Attempts: 10, Backoff: 5 * time.Millisecond, MaxBackoff: 5 * time.Millisecond},
			}), nil, WithSafetyMargin(margin), WithLogger(slog.New(slog.DiscardHandler)))
			c.protocols[KindREST] = rec
			ctx, cancel := context.WithTimeout(context.Background(), tt.caller)
			defer cancel()
			caller, _ := ctx.Deadline()
			r := c.Call(ctx, "svc", nil)
			if r.Outcome != Timeout || r.Attempts != len(rec.deadlines) || r.Attempts == 0 {
				t.Errorf("Outcome %q, Attempts %d, recorded %d", r.Outcome, r.Attempts, len(rec.deadlines))
			}
			limit := caller.Add(-margin)
			for i, d := range rec.deadlines {
				if d.After(limit) {
					t.Errorf("attempt %d had until %v, %v past the caller's deadline less the margin", i+1, d.Format(time.StampMicro), d.Sub(limit))
				}
				if i < len(rec.deadlines)-1 && d.Equal(limit) {
					t.Errorf("attempt %d was cut by the budget, yet another followed", i+1)
				}
			}
			if last := rec.deadlines[len(rec.deadlines)-1]; tt.timeout > tt.caller && !last.Equal(limit) {
				t.Errorf("the only attempt had until %v, want exactly the caller's deadline less the margin", last.Sub(limit))
			}
		})
	}
}

// okTransport answers at once, so a benchmark measures Call's own work.
type okTransport struct {
	restProtocol
	body []byte
}

func (t okTransport) call(context.Context, *http.Client, *Service, map[string]any) Response {
	return Response{Outcome: OK, Status: 200, Body: t.body}
}

// BenchmarkCallOverhead is what Call adds around a transport, network
// aside: lookup, hop budget, circuit breaker, rate limiter, the attempt's
// deadline and the retry decision.
func BenchmarkCallOverhead(b *testing.B) {
	c := NewClient(NewRegistry(Service{
		ID: "svc", BaseURL: "http://127.0.0.1:9", Path: "/offices/{office}/slots",
		Retry: Retry{Attempts: 3}, Rate: Rate{PerSecond: 1e9},
	}), nil, WithLogger(slog.New(slog.DiscardHandler)))
	c.protocols[KindREST] = okTransport{body: []byte(`[]`)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	params := map[string]any{"office": "quito-norte"}
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Call(ctx, "svc", params); r.Outcome != OK {
			b.Fatal(r.Outcome)
		}
	}
}
