// Package interop calls institutions' back-ends for a flow's call step.
// Services are declared once in configuration (a Registry) and named by id in
// flows, which never carry URLs or secrets. A call never returns a Go error:
// every failure is an Outcome a flow can route on, and no call outlives its
// context or its service's timeout. It knows nothing of flows, sessions or
// channels, and it never logs a citizen's data.
package interop
