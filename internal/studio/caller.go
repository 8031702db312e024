package studio

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/flowtest"
	"github.com/ventanilla-gob/ventanilla/interop"
	"github.com/ventanilla-gob/ventanilla/interop/flowcall"
)

// Answers an author can pick for a service, so that every branch of a
// flow can be seen without breaking a back-end.
const (
	PickBackend  = "ok"        // what the back-end (or the transcript's mock) answers
	PickNotFound = "not_found" // 404
	PickError    = "error"     // 500
	PickTimeout  = "timeout"   // the service's timeout ran out
	// PickSlow answers only when the hop's budget has run out: what the
	// citizen sees when a back-end is slower than the carrier waits.
	PickSlow = "slow"
)

// Picks lists the answers in the order the page offers them.
var Picks = []string{PickBackend, PickNotFound, PickError, PickTimeout, PickSlow}

// call is one back-end call a conversation made, as a transcript mocks it.
type call struct {
	dial    int
	service string
	mock    flowtest.Mock
	pick    string
}

// caller is the conversation's back-end: the flows' services or a
// transcript's mocks, with the answers the author picked per service put
// in their place. It records every call, for the transcript saved later;
// the engine reaches it through flowcall, as it reaches interop.
type caller struct {
	mu    sync.Mutex
	base  flowcall.Backend
	picks map[string]string
	dial  int
	calls []call
}

func (c *caller) Call(ctx context.Context, service string, params map[string]any) interop.Response {
	c.mu.Lock()
	pick, dial, base := c.picks[service], c.dial, c.base
	c.mu.Unlock()
	var resp interop.Response
	switch pick {
	case PickNotFound:
		resp = interop.Response{Outcome: interop.NotFound, Status: 404}
	case PickError:
		resp = interop.Response{Outcome: interop.Error, Status: 500}
	case PickTimeout:
		resp = interop.Response{Outcome: interop.Timeout}
	case PickSlow:
		<-ctx.Done()
		resp = interop.Response{Outcome: interop.Timeout, Err: ctx.Err()}
	default:
		resp = base.Call(ctx, service, params)
	}
	c.mu.Lock()
	c.calls = append(c.calls, call{dial: dial, service: service, mock: mockOf(resp), pick: pick})
	c.mu.Unlock()
	return resp
}

// Effects passes on what the back-end says of its services.
func (c *caller) Effects(service string) bool {
	c.mu.Lock()
	base := c.base
	c.mu.Unlock()
	if fx, ok := base.(flows.Effects); ok {
		return fx.Effects(service)
	}
	return true
}

// mockOf is a response as a transcript's mock, which answers the same.
func mockOf(r interop.Response) flowtest.Mock {
	m := flowtest.Mock{Status: r.Status}
	if m.Status == 0 {
		m.Status = 200
	}
	if len(r.Body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.UseNumber()
		var body any
		if dec.Decode(&body) == nil {
			m.Body = numbers(body)
		}
	}
	if derived := derivedOutcome(m.Status); r.Outcome != derived {
		m.Outcome = string(r.Outcome)
	}
	return m
}

// derivedOutcome is the outcome a mock without one has (see flowtest).
func derivedOutcome(status int) interop.Outcome {
	switch {
	case status < 300:
		return interop.OK
	case status == 404:
		return interop.NotFound
	case status < 500:
		return interop.Rejected
	}
	return interop.Error
}

// numbers turns the json.Numbers of a decoded body into int64 or float64,
// so that the YAML of a mock writes 1000000 as it came, not as 1e+06.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}
