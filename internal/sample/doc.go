// Package sample is a sample standing in for an institution's systems; not
// part of the gateway. It serves a small JSON REST API (offices, appointment
// slots, bookings, procedure status, a citizen mailbox) so that `ventanilla
// demo` and the tests have a back-end to call, with data in memory or in a
// bbolt file (OpenStore), and optional latency and failure injection. The
// gateway must never import it outside demo wiring and tests; openapi.yaml
// describes its API.
package sample
