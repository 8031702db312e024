// Package sessions keeps conversation state between hops: the Session type,
// its compact binary encoding, and the Store contract with an in-process and a
// Redis implementation that pass one shared contract test. It knows nothing of
// flows, channels or carriers, and it never logs nor puts keys or session
// contents in errors: both carry citizens' personal data.
package sessions
