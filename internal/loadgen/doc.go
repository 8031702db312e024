// Package loadgen drives a running gateway the way carriers do under load:
// simulated citizens dial, answer screens and check every reply, while a
// latency histogram, error counts and an optional pace are kept. It also
// runs a bare net/http baseline so a result can be read against what the
// same machine and client manage without the gateway.
//
// It speaks to the gateway only over HTTP, as a carrier would; it must not
// import the gateway's packages, so it measures what a carrier sees.
package loadgen
