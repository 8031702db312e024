// Package gateway is the seam between carriers and the dialog engine: it
// runs a hop (session read → engine → render → session write). The carrier
// contract (the normalised inbound hop, the reply, Carrier and Sender) is
// in channels/carrier, which carrier adapters import instead of this
// package; the gateway is mounted on them in cmd/ventanilla. The engine
// never sees wire formats.
package gateway
