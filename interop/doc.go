// Package interop calls institutions' back-ends for a flow's call step.
// Services are declared once in configuration (a Registry) and named by id in
// flows, which never carry URLs or secrets. A service is plain REST, REST
// through an X-Road Security Server, or SOAP (with a WS-Security
// UsernameToken), with its authentication, retry policy, circuit breaker,
// rate limit and cache declared alongside. Each kind is one protocol
// (protocol.go).
//
// A call never returns a Go error: every failure is an Outcome a flow can
// route on, and no call outlives its context's deadline less a safety
// margin, or its service's timeout. It knows nothing of flows, sessions or
// channels, and it never logs a citizen's data. docs/interop.md is the
// operator's guide.
package interop
