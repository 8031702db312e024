// Package channels is the seam between carriers and the dialog engine: the
// normalised inbound hop, the reply, the carrier contract, and the gateway
// that runs a hop (session read → engine → render → session write). Carrier
// adapters only translate wire formats; the engine never sees them.
package channels
