// Package atsms adapts Africa's Talking two-way SMS (route
// /sms/africastalking): each incoming-message callback becomes a hop on
// Channel "sms", Carrier "africastalking-sms". Africa's Talking does not
// turn the callback's response into an SMS, so the reply is handed to an
// Outbox (the outbound queue) and the callback is answered 200 with an
// empty body. Sender delivers queued messages through AT's SMS API
// (POST {base}/version1/messaging), sandbox or production.
//
// It only translates: it validates the form, hands a carrier.Inbound to
// the gateway and the reply to the Outbox. It must not keep state, render
// screens, retry sends or read the text beyond checking it; the Outbox
// retries, guided by how Sender classifies its failures.
package atsms
