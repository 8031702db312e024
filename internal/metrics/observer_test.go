package metrics

import (
	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
)

// Metrics listens to the gateway and the engine through the interfaces
// they declare; the guards live here, in a test, so that the package
// itself imports neither.
var (
	_ gateway.Observer = (*Metrics)(nil)
	_ flows.Observer   = (*Metrics)(nil)
	_ notify.Observer  = (*Metrics)(nil)
)
