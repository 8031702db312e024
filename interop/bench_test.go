package interop_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/interop"
)

// slotsJSON is a realistic answer: twelve free slots, ~600 bytes.
var slotsJSON = func() string {
	var b strings.Builder
	b.WriteString("[")
	for i, d := range []string{"2026-11-24", "2026-11-25", "2026-11-26"} {
		for j, h := range []string{"09:00", "10:30", "14:00", "15:30"} {
			if i+j > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"id":"` + d + "T" + h + `","date":"` + d + `","time":"` + h + `"}`)
		}
	}
	b.WriteString("]")
	return b.String()
}()

func slotsBackend(b *testing.B) string {
	return backend(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, slotsJSON)
	})
}

// BenchmarkCall is one call step's round trip through the client, against
// a loopback server; compare with BenchmarkRawHTTP for the client's own
// cost. The Call path is the production one: hop budget from a deadline,
// circuit breaker, a rate limiter (set high enough never to refuse) and a
// retry policy that a 200 never triggers.
func BenchmarkCall(b *testing.B) {
	c := interop.NewClient(interop.NewRegistry(interop.Service{
		ID: "turnos.slots", BaseURL: slotsBackend(b), Path: "/offices/{office}/slots",
		Retry: interop.Retry{Attempts: 3},
		Rate:  interop.Rate{PerSecond: 1e9},
	}), loopbackClient(b), interop.WithLogger(quiet))
	params := map[string]any{"office": "quito-norte", "from": "2026-11-24"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Call(ctx, "turnos.slots", params); r.Outcome != interop.OK {
			b.Fatalf("%q %v", r.Outcome, r.Err)
		}
	}
}

// BenchmarkCallXRoad adds what X-Road costs: the identifiers in the URL, a
// UUID and the headers per call.
func BenchmarkCallXRoad(b *testing.B) {
	url := backend(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Road-Id", r.Header.Get("X-Road-Id"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, slotsJSON)
	})
	c := interop.NewClient(interop.NewRegistry(interop.Service{
		ID: "turnos.slots", Kind: interop.KindXRoadREST, BaseURL: url, Path: "/offices/{office}/slots",
		XRoad: interop.XRoad{Client: "EC/GOB/1760001550001/VENTANILLA", Service: "EC/GOB/1760013210001/TURNOS/slots"},
		Rate:  interop.Rate{PerSecond: 1e9},
	}), loopbackClient(b), interop.WithLogger(quiet))
	params := map[string]any{"office": "quito-norte", "from": "2026-11-24"}
	ctx := interop.WithUserID(context.Background(), "EC1714307103")
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Call(ctx, "turnos.slots", params); r.Outcome != interop.OK {
			b.Fatalf("%q %v", r.Outcome, r.Err)
		}
	}
}

// BenchmarkCallCached is a cache hit: what a repeated lookup costs.
func BenchmarkCallCached(b *testing.B) {
	c := interop.NewClient(interop.NewRegistry(interop.Service{
		ID: "turnos.slots", BaseURL: slotsBackend(b), Path: "/offices/{office}/slots", Cache: time.Hour,
	}), loopbackClient(b), interop.WithLogger(quiet))
	params := map[string]any{"office": "quito-norte", "from": "2026-11-24"}
	ctx := context.Background()
	c.Call(ctx, "turnos.slots", params)
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Call(ctx, "turnos.slots", params); !r.Cached {
			b.Fatalf("%q %v", r.Outcome, r.Err)
		}
	}
}

// BenchmarkRawHTTP is the same request with plain net/http.
func BenchmarkRawHTTP(b *testing.B) {
	url := slotsBackend(b) + "/offices/quito-norte/slots?from=2026-11-24"
	hc := loopbackClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(body) == 0 {
			b.Fatal(resp.StatusCode, err)
		}
	}
}

// BenchmarkResponseGet is a save: reading one list out of a body.
func BenchmarkResponseGet(b *testing.B) {
	r := interop.Response{Outcome: interop.OK, Body: []byte(slotsJSON)}
	b.ReportAllocs()
	for b.Loop() {
		if v, ok := r.Get("@this").([]any); !ok || len(v) != 12 {
			b.Fatal(v)
		}
	}
}
