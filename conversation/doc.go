// Package conversation is the state of one conversation between hops —
// the flows on its call stack, its back stack, its variables — and the
// compact binary encoding stores keep it in. It is a leaf: the engine
// (flows) runs hops on a State, the gateway loads and saves it through a
// store (sessions), and neither of them is imported here.
package conversation
