// Package sessions keeps conversation state between hops: the Store
// contract, which holds encoded conversations (package conversation) and
// small per-citizen profiles as bytes, with an in-process and a Redis
// implementation. It knows nothing of flows, channels or carriers, and
// it never logs nor puts keys or session contents in errors: both carry
// citizens' personal data.
//
// # Stores and their capabilities
//
// Store is what every store does. What a store can do beyond it is a small
// capability interface, which the gateway discovers with a type assertion on
// the interface (never on a concrete type), so that a store gets every
// feature its capabilities allow and nothing is lost silently:
//
//   - MultiGetter: several keys in one round trip (a returning citizen's
//     profile and pending result together).
//   - Verifier: a store that answers from a local copy (Near) confirms a
//     revision before a hop does something it cannot take back.
//   - Watcher: Near reads a record with one it depends on (a text
//     conversation and the question kept for the number) from its copy,
//     and writes the first only while the second is as read, in the
//     write's one round trip.
//   - Swapper: compare-and-set answering a conflict with the stored record
//     (with a watched record too), revisions of several keys at once; the
//     gateway puts Near in front of it (--near-sessions).
//   - RedisBacked: the store lives on a Redis every instance reaches; the
//     gateway guards it with a circuit breaker and keeps the durable
//     outbound queue and the shared hop limits on the same server.
//
// Breaker.Wrap keeps MultiGetter, Verifier and Near's Watcher; Unwrap returns the store
// under a wrapper, for the other capabilities. Each implementation states
// the capabilities it has with interface guards (var _ Swapper = ...), so
// that losing one is a compile error.
//
// # A new store
//
// A new store proves itself with the exported contract suite in
// package storetest, which Memory, Redis (single, Cluster, Sentinel,
// batched), Near and the breaker-wrapped store all run:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) sessions.Store {
//			return mystore.New(...) // empty; closed by t.Cleanup
//		})
//	}
//
// and adds the interface guards of the capabilities it claims. Wiring it
// in is a flag and a case of the gateway's store constructor in
// cmd/ventanilla (config.store); the queue, Near, the breaker and the
// shared limits follow from its capabilities. The gateway names a
// concrete store only for what is that store's own (the memory store's
// metrics, re-keying Redis).
package sessions
