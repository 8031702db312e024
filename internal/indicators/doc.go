// Package indicators counts what citizens experience — conversations
// started and completed, where the others stopped, how they rated the
// service, what came of their reminders — and publishes it as open data
// with small cells withheld, so that nobody can be singled out.
//
// Counts are kept per day and per cell (flow, institution, channel,
// carrier, locale): no phone number, national id or session ever enters
// them. Counting is a map increment on the hop; a goroutine adds the
// counts to the store (Redis hashes, or memory) every few seconds.
package indicators
