// Package gateway is the seam between carriers and the dialog engine: it
// runs a hop (session read → engine → render → session write). The carrier
// contract (the normalised inbound hop, the reply, Carrier and Sender) is
// in channels/carrier, which carrier adapters import instead of this
// package; the gateway is mounted on them in cmd/ventanilla. The engine
// never sees wire formats.
//
// One file per concern:
//
//   - gateway.go: the Gateway and one hop (budget, retries on a lost
//     compare-and-set, what to do with the session read)
//   - conversation.go: starting a conversation and answering a screen
//   - resume.go: the offer to continue a dropped USSD conversation
//   - ended.go: ended conversations, repeated requests, results kept late
//   - keywords.go: SMS and chat keywords
//   - citizen.go: the citizen's language and preferred text channel
//   - ratelimit.go: hops per phone number and per carrier
//   - record.go: metrics (Observer) and the audit trail (Recorder)
//   - render.go: laying a screen out for the hop's channel
//   - store.go, storeerr.go: writing the session, and logging store errors
//   - keys.go: the key of a hop's conversation (internal/keys names every
//     key kept about a citizen)
//   - pins.go, pending.go: PINs, and results kept for the next contact
//   - auth.go: carriers' callback authentication and the one mount path
package gateway
