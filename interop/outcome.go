package interop

// Outcome is how a call ended. Flows route on it, so the set is closed and
// the values are part of the flow language.
type Outcome string

const (
	OK          Outcome = "ok"          // 2xx with a JSON body (or no body)
	NotFound    Outcome = "not_found"   // 404
	Rejected    Outcome = "rejected"    // any other 4xx, or X-Road's Client.*: this request was refused
	Error       Outcome = "error"       // 5xx, a body that is not JSON or too large, a transport failure, X-Road's Server.* failures
	Timeout     Outcome = "timeout"     // the service's timeout or the caller's deadline ran out, or no time was left to call
	Unavailable Outcome = "unavailable" // unknown or disabled service, open circuit, rate limit, or X-Road denying access: not reachable now
)

// outcomes is in the order flow authors meet them in the docs: success first,
// then what the back-end said, then what went wrong on the way.
var outcomes = [...]Outcome{OK, NotFound, Rejected, Error, Timeout, Unavailable}

// Outcomes returns every Outcome in a fixed order; the flow lint and the
// generated docs use it.
func Outcomes() []Outcome {
	return append([]Outcome(nil), outcomes[:]...)
}

// Valid reports whether o is one of Outcomes.
func (o Outcome) Valid() bool {
	for _, x := range outcomes {
		if o == x {
			return true
		}
	}
	return false
}
