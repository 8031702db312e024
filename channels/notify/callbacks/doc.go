// Package callbacks pushes what happens to an institution's notifications
// (delivery receipts, and citizens' replies) to the institution's own
// HTTPS endpoint, signed with HMAC-SHA256 under the institution's secret
// and timestamped against replays, retried with backoff until it is taken
// or gives up. Deliveries wait in a Store (Redis when the queue is there,
// memory otherwise), so a restart loses none, and a claim keeps two
// instances from pushing one event at once. Delivery is at least once:
// institutions dedupe on the event id. It never logs secrets or bodies.
package callbacks
