package loadgen

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Balancer stands between the simulated carrier and several gateway
// instances as a carrier's load balancer does: each hop goes to the next
// instance in turn, whatever instance served the conversation before, and
// a hop that gets no answer from one (a refused or cut connection, a
// timeout, a 5xx) is sent again, unchanged, to the next. A hop none of
// them answers gets 502. It sees every hop and its answer (Observe), as
// the carrier does.
type Balancer struct {
	Targets []string // instances' base URLs, e.g. http://127.0.0.1:8080
	Client  *http.Client
	// TryTimeout bounds one attempt at one instance (the carrier's
	// timeout before it retries elsewhere).
	TryTimeout time.Duration
	// Observe, when set, is called with every hop's request body and the
	// answer that went back to the carrier (status 502 and no body when no
	// instance answered).
	Observe func(reqBody []byte, status int, respBody []byte)
	// Received, when set, is called with every hop's request body before
	// it is forwarded.
	Received func(reqBody []byte)

	next    atomic.Uint64
	retried atomic.Int64
	lost    atomic.Int64
	hops    atomic.Int64
	flight  sync.WaitGroup
}

// BalancerStats are the balancer's counts.
type BalancerStats struct {
	Hops       int64 // hops the carrier sent
	Retried    int64 // attempts sent again to another instance
	Unanswered int64 // hops no instance answered
}

// Stats returns the counts so far.
func (b *Balancer) Stats() BalancerStats {
	return BalancerStats{Hops: b.hops.Load(), Retried: b.retried.Load(), Unanswered: b.lost.Load()}
}

// Wait returns when no hop is in flight. A hop the carrier stopped
// waiting for still runs to its end, as it would at the gateway: its
// answer is observed, so that what a back-end did is never unaccounted.
func (b *Balancer) Wait() { b.flight.Wait() }

// ServeHTTP forwards one hop.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.flight.Add(1)
	defer b.flight.Done()
	b.hops.Add(1)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "reading the hop", http.StatusBadRequest)
		return
	}
	if b.Received != nil {
		b.Received(body)
	}
	// The hop goes on when the carrier's side gives up: the gateway would
	// not know either.
	ctx := context.WithoutCancel(r.Context())
	start := int(b.next.Add(1) - 1)
	for k := range b.Targets {
		if k > 0 {
			b.retried.Add(1)
		}
		target := b.Targets[(start+k)%len(b.Targets)]
		status, header, resp, ok := b.try(ctx, r, target, body)
		if !ok {
			continue
		}
		if b.Observe != nil {
			b.Observe(body, status, resp)
		}
		for _, h := range []string{"Content-Type"} {
			if v := header.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write(resp)
		return
	}
	b.lost.Add(1)
	if b.Observe != nil {
		b.Observe(body, http.StatusBadGateway, nil)
	}
	w.WriteHeader(http.StatusBadGateway)
}

// try sends the hop to one instance; ok is false when it gave no answer
// worth passing on.
func (b *Balancer) try(ctx context.Context, r *http.Request, target string, body []byte) (int, http.Header, []byte, bool) {
	ctx, cancel := context.WithTimeout(ctx, b.TryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, false
	}
	req.Header = r.Header.Clone()
	resp, err := b.Client.Do(req)
	if err != nil {
		return 0, nil, nil, false
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil || resp.StatusCode >= 500 {
		return 0, nil, nil, false
	}
	return resp.StatusCode, resp.Header, out, true
}
