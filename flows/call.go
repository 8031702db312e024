package flows

import (
	"context"
	"log/slog"
	"time"
)

// Caller reaches the back-end services that call steps name. The engine
// knows nothing of protocols, URLs or response formats: the gateway plugs
// in a Caller made from the back-end client (interop/flowcall), and tests
// plug in their own.
type Caller interface {
	// Call makes one call and says how it ended. It never fails with a Go
	// error: every failure is an Outcome a flow can route on.
	Call(ctx context.Context, req Request) Response
}

// Effects is what a Caller that knows its services adds: whether a call
// of service changes something at the back-end (a booking), so that the
// engine stores the conversation before making it. A Caller without it
// is taken to change something with every call.
type Effects interface {
	Effects(service string) bool
}

// Request is one call a call step makes.
type Request struct {
	Service string
	Params  map[string]any // the step's params, evaluated
	// IdempotencyKey is the same for every attempt at this call of this
	// conversation — a retry, another instance, a resumed conversation —
	// and different for any other call, so that a back-end that keeps
	// each key's first answer does nothing twice.
	IdempotencyKey string
	// UserID is the citizen on whose behalf the call is made, with a
	// country prefix ("EC1714307103"), or "" when the flow does not know.
	UserID string
}

// Outcome is how a call ended. Call steps route on it, so the set is
// closed and its values are part of the flow language.
type Outcome string

// The outcomes of a call, in the order authors meet them in the docs:
// success first, then what the back-end said, then what went wrong on
// the way.
const (
	OK          Outcome = "ok"          // the back-end answered yes
	NotFound    Outcome = "not_found"   // it knows nothing of what was asked
	Rejected    Outcome = "rejected"    // it refused this request
	Failed      Outcome = "error"       // it failed, or its answer was unreadable
	Timeout     Outcome = "timeout"     // no answer in time
	Unavailable Outcome = "unavailable" // not reachable now (disabled, circuit open, rate limited)
)

// Outcomes returns every Outcome, in the order of the docs.
func Outcomes() []Outcome {
	return []Outcome{OK, NotFound, Rejected, Failed, Timeout, Unavailable}
}

// Response is how a call ended, as the engine needs it.
type Response struct {
	Outcome Outcome
	Elapsed time.Duration
	// Get reads the value at a path of the step's save field from the
	// back-end's answer, as variables hold values (string, bool, nil,
	// int64, float64, []any, map[string]any); nil when the path matches
	// nothing. A nil Get reads nothing.
	Get func(path string) any
	// CorrelationID is the back-end's own id of the call, the key to its
	// logs (X-Road's X-Road-Id), for the audit trail; "" when it has none.
	CorrelationID string
	// Err says why the Outcome is not OK, for logs; it never holds the
	// request's params, which may carry a citizen's data.
	Err error
	// Detail, when set, is what logs say of the call instead of the
	// outcome, elapsed time and error alone: the back-end client's own
	// account (status, attempts, cache), without the body.
	Detail slog.LogValuer
}

// LogValue leaves the answer out: it may hold a citizen's data.
func (r Response) LogValue() slog.Value {
	if r.Detail != nil {
		return r.Detail.LogValue()
	}
	attrs := []slog.Attr{slog.String("outcome", string(r.Outcome)), slog.Duration("elapsed", r.Elapsed)}
	if r.Err != nil {
		attrs = append(attrs, slog.String("err", r.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

var _ slog.LogValuer = Response{}
