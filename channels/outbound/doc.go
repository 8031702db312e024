// Package outbound is the one path for messages the gateway sends on its own
// initiative: replies that do not travel back in a carrier's HTTP response,
// and notifications institutions ask for. A Queue accepts a message once per
// ID, sends it through the carrier's carrier.Sender within the carrier's
// rate (in SMS segments per second), retries what the sender calls
// retryable until the message's deadline (failing over to another carrier
// when one keeps failing), and keeps a status a carrier's delivery
// callback can update.
// NewMemory keeps messages in the process; NewRedis keeps them in Redis
// Streams so that a crash loses nothing. It never logs phone numbers or
// message text, and keeps neither in a status.
package outbound
