package channels

import "github.com/ventanilla-gob/ventanilla/channels/carrier"

// The carrier contract lives in channels/carrier, a leaf that adapters
// import without the gateway; these names keep the gateway's code
// compiling until it refers to the contract there.
type (
	Inbound = carrier.Inbound
	Event   = carrier.Event
	Reply   = carrier.Reply
	Button  = carrier.Button
	Hopper  = carrier.Hopper
	Router  = carrier.Router
	Carrier = carrier.Carrier
)

const (
	EventContinue = carrier.EventContinue
	EventBegin    = carrier.EventBegin
	EventEnd      = carrier.EventEnd
)
