package channels

import (
	"context"

	"github.com/labstack/echo/v4"
)

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
}

// Reply is what the carrier sends back: one rendered screen page.
type Reply struct {
	Text string
	End  bool
}

// Hopper runs one hop of a conversation. The gateway implements it; carrier
// adapters call it and only translate wire formats around it.
type Hopper interface {
	Hop(ctx context.Context, in Inbound) (Reply, error)
}

// Carrier is one provider adapter: it mounts its callback routes and turns
// each request into an Inbound and each Reply into the provider's format.
type Carrier interface {
	Name() string
	Mount(e *echo.Echo, h Hopper)
}
