// Package notify is the API institutions use to reach citizens:
// POST /v1/notifications renders one of the configured templates in the
// citizen's language and hands it to the outbound queue for the citizen's
// channel; GET /v1/notifications/{id} reports how far it got. Each
// institution authenticates with its own bearer token and sees only its own
// notifications. It sends nothing itself and never logs numbers or texts.
package notify
