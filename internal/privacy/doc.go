// Package privacy keeps citizens' personal data out of logs: keyed
// pseudonyms (HMAC-SHA256) for correlating a citizen across hops without
// naming them, redacting slog values for the data the gateway handles, a
// scrubber for free text from outside, and a slog.Handler that applies both
// to every record. It never stores anything and never logs what it is given.
package privacy
