package carrier

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"
)

// DefaultUSSDLimit is the characters one USSD screen can carry: 160 octets
// of packed GSM 7-bit text (3GPP TS 23.038). Many aggregators advise 160.
// An Inbound whose Limit is 0 is laid out to it.
const DefaultUSSDLimit = 182

// Inbound is one hop from a citizen, normalised by a carrier adapter.
type Inbound struct {
	Channel     string // "ussd", "sms", "chat"
	Carrier     string // "africastalking", …
	SessionID   string // the carrier's session id (USSD) or a conversation id
	Phone       string // E.164
	ServiceCode string // dialled code, e.g. "*384*2#", when the channel has one
	Input       string // what the citizen sent, as the carrier delivered it
	// Cumulative means Input is every answer so far joined by "*" (Africa's
	// Talking's text history) rather than the last answer alone.
	Cumulative bool
	Limit      int // characters per screen for this carrier; 0 means the default
	// Event says what the carrier told us about the session; most hops are
	// EventContinue. With EventEnd the carrier closed the session and shows
	// nothing more: the gateway records it and the Reply is ignored.
	Event Event
	// BeginIsNew says an EventBegin always opens a new session: the
	// carrier's session ids repeat across sessions (SMPP USSD without
	// its_session_info), so a begin with a known id is not a retry.
	BeginIsNew bool
	// EndStatus is the carrier's word for how a closed session ended
	// ("Success", "Incomplete", "Timeout", "Release"…), for the record.
	EndStatus string
	// Seq is the carrier's number for this hop when its protocol numbers
	// hops (Hubtel's Sequence); 0 otherwise. A repeat is a retry.
	Seq int
	// Budget is how long the carrier waits for this hop's reply; 0 means
	// the gateway's default.
	Budget time.Duration
}

// Event is what a carrier says about the session a hop belongs to.
type Event int

const (
	// EventContinue: an answer in a running session (or the first hop,
	// for protocols that do not say).
	EventContinue Event = iota
	// EventBegin: the carrier says this is the first hop of a new session;
	// Input may carry a dialled shortcut.
	EventBegin
	// EventEnd: the carrier closed the session (the citizen hung up, it
	// timed out, or it finished).
	EventEnd
)

// Reply is what the carrier sends back: one rendered screen (a USSD page,
// an SMS, a chat message).
type Reply struct {
	Text string
	End  bool
	// Buttons are rows of choices for chat platforms that show them; a
	// button's Data is what the citizen would otherwise type ("1", "0").
	Buttons [][]Button
}

// Button is one choice shown as a button.
type Button struct {
	Label string
	Data  string
}

// Hopper runs one hop of a conversation. The gateway implements it; carrier
// adapters call it and only translate wire formats around it.
type Hopper interface {
	Hop(ctx context.Context, in Inbound) (Reply, error)
}

// Router is where a carrier mounts its routes: the server itself, or a
// group that adds the carrier's callback authentication (both *echo.Echo
// and *echo.Group are Routers).
type Router interface {
	Add(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

// Carrier is one provider adapter: it mounts its callback routes and turns
// each request into an Inbound and each Reply into the provider's format.
type Carrier interface {
	Name() string
	Mount(r Router, h Hopper)
}
