// Package carrier is the contract between a carrier adapter and the
// gateway: the normalised inbound hop, the reply, the Carrier that mounts
// its callback routes, and the Sender that delivers messages the gateway
// sends on its own. Adapters under carriers/ import this package and
// nothing of the gateway; the gateway in channels imports it too.
//
// It sits under channels because it is the carrier-facing half of the
// channel contract, and apart from carriers/ because the gateway depends
// on it while it must not depend on any adapter. It must stay a leaf: no
// import of the gateway, the engine (flows), the session stores or the
// back-end calls, nor of the libraries they need.
package carrier
