// Package channels is the seam between carriers and the dialog engine: the
// gateway that runs a hop (session read → engine → render → session write).
// The carrier contract (the normalised inbound hop, the reply, Carrier and
// Sender) is in channels/carrier, which adapters import instead of this
// package; the names here are aliases of it. The engine never sees wire
// formats.
package channels
