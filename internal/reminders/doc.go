// Package reminders keeps messages to be sent to citizens later — a
// turno's reminders 24 and 2 hours before it — and hands each, when due,
// to a Sender exactly once, whichever instance is running and however
// often they restart.
//
// The store is Redis (a sorted set by due time) when sessions are in
// Redis, memory otherwise. The handoff is at least once; the Sender must
// be idempotent on the reminder's id (the outbound queue is: a message id
// it knows is not queued again), which makes the sending exactly once.
// Nothing here renders texts or knows flows: a reminder arrives with its
// text written in the citizen's language.
package reminders
