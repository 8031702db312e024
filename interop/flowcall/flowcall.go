// Package flowcall lets the engine's call steps reach back-ends through
// interop: it makes an interop client the engine's Caller. It is the one
// place that knows both sides, so that the engine (flows) imports no
// back-end code and interop no engine code.
package flowcall

import (
	"context"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// Backend is what a Caller calls: an *interop.Client, or anything that
// answers as one.
type Backend interface {
	Call(ctx context.Context, service string, params map[string]any) interop.Response
}

// Caller makes b the engine's Caller. When b knows which services change
// something (interop.Client does), the Caller says so too.
func Caller(b Backend) flows.Caller { return caller{b} }

type caller struct{ b Backend }

var (
	_ flows.Caller  = caller{}
	_ flows.Effects = caller{}
	_ Backend       = (*interop.Client)(nil)
)

// Call passes the step's idempotency key and citizen to interop, which
// sends them the way the service's protocol wants them.
func (c caller) Call(ctx context.Context, req flows.Request) flows.Response {
	ctx = interop.WithIdempotencyKey(ctx, req.IdempotencyKey)
	if req.UserID != "" {
		ctx = interop.WithUserID(ctx, req.UserID)
	}
	return Response(c.b.Call(ctx, req.Service, req.Params))
}

// Effects is the backend's answer, or true (the safe side) when it does
// not know.
func (c caller) Effects(service string) bool {
	if fx, ok := c.b.(flows.Effects); ok {
		return fx.Effects(service)
	}
	return true
}

// Response is r as the engine reads it: outcome, fields for the step's
// save, and what logs and the audit trail keep.
func Response(r interop.Response) flows.Response {
	return flows.Response{
		Outcome:       flows.Outcome(r.Outcome),
		Elapsed:       r.Elapsed,
		Get:           r.Get,
		CorrelationID: r.CorrelationID,
		Err:           r.Err,
		Detail:        r,
	}
}
