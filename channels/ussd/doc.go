// Package ussd lays an engine screen (flows.Screen) out as USSD pages that
// fit a handset's character budget, and reads the newest answer out of a
// cumulative USSD input history.
//
// It is pure text work: no I/O, no sessions, no clocks. It must not know
// carrier wire formats — the "CON "/"END " framing and any room it needs
// belong to the carrier adapter, which passes the remaining budget as limit.
package ussd
