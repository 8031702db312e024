package sample_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/interop"
)

func TestFaultInjection(t *testing.T) {
	get := func(t *testing.T, url string, header http.Header) (int, time.Duration) {
		t.Helper()
		req, _ := http.NewRequest("GET", url+"/offices", nil)
		for k, v := range header {
			req.Header[k] = v
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}

	t.Run("zero options: no faults", func(t *testing.T) {
		srv := httptest.NewServer(sample.New(sample.Options{}))
		defer srv.Close()
		if status, _ := get(t, srv.URL, nil); status != 200 {
			t.Errorf("status %d", status)
		}
	})

	t.Run("failure rate", func(t *testing.T) {
		draws := []float64{0.1, 0.9, 0.2, 0.6}
		i := 0
		srv := httptest.NewServer(sample.New(sample.Options{FailureRate: 0.5, Rand: func() float64 {
			i++
			return draws[(i-1)%len(draws)]
		}}))
		defer srv.Close()
		var got []int
		for range draws {
			status, _ := get(t, srv.URL, nil)
			got = append(got, status)
		}
		if want := []int{503, 200, 503, 200}; !slices.Equal(got, want) {
			t.Errorf("statuses %v, want %v", got, want)
		}
	})

	t.Run("latency", func(t *testing.T) {
		srv := httptest.NewServer(sample.New(sample.Options{Latency: 60 * time.Millisecond}))
		defer srv.Close()
		if status, took := get(t, srv.URL, nil); status != 200 || took < 60*time.Millisecond {
			t.Errorf("status %d after %v", status, took)
		}
	})

	t.Run("per request headers", func(t *testing.T) {
		srv := httptest.NewServer(sample.New(sample.Options{}))
		defer srv.Close()
		if status, _ := get(t, srv.URL, http.Header{"X-Sample-Fail": {"502"}}); status != 502 {
			t.Errorf("X-Sample-Fail: status %d", status)
		}
		if status, took := get(t, srv.URL, http.Header{"X-Sample-Latency": {"50ms"}}); status != 200 || took < 50*time.Millisecond {
			t.Errorf("X-Sample-Latency: status %d after %v", status, took)
		}
		for _, h := range []http.Header{{"X-Sample-Fail": {"200"}}, {"X-Sample-Latency": {"soon"}}} {
			if status, _ := get(t, srv.URL, h); status != 400 {
				t.Errorf("%v: status %d", h, status)
			}
		}
	})

	// The demo of the gateway's resilience: a slow, flaky institution seen
	// through the interop client with a hop budget.
	t.Run("through the interop client", func(t *testing.T) {
		srv := httptest.NewServer(sample.New(sample.Options{Latency: 2 * time.Second}))
		defer srv.Close()
		c := interop.NewClient(interop.NewRegistry(interop.Service{ID: "turnos.offices", BaseURL: srv.URL, Path: "/offices"}), srv.Client())
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		// Had the client waited for the answer, it would be ok after 2s.
		if r := c.Call(ctx, "turnos.offices", nil); r.Outcome != interop.Timeout {
			t.Errorf("%q after %v", r.Outcome, r.Elapsed)
		}
	})
}
