// Package generic is Ventanilla's own USSD callback protocol, for
// aggregators that can adapt to us rather than the other way round: a
// JSON POST per hop ({"session_id", "msisdn", "service_code", "input",
// "event": "begin"|"continue"|"end", "end_status", "network"}) answered
// with JSON {"session_id", "text", "end"}. openapi.yaml is its contract,
// and a test holds the handler to it.
//
// Like every adapter it only translates; it must not render screens or
// keep state. Changes to the protocol must stay backwards compatible
// (new optional fields only): aggregators integrate against it once.
package generic
