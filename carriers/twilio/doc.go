// Package twilio adapts Twilio Programmable Messaging, SMS and WhatsApp, on
// one webhook (route /sms/twilio): each signed form POST becomes a hop and
// its reply goes back in the response as TwiML. It also takes Twilio's
// delivery status callbacks (route /sms/twilio/status) to a StatusSink, and
// sends messages on the gateway's initiative through the REST API (Sender).
//
// SMS hops are Channel "sms", Carrier "twilio"; WhatsApp hops (addresses
// "whatsapp:+…") are Channel "chat", Carrier "whatsapp", so that one
// number's SMS and WhatsApp conversations stay apart and WhatsApp replies
// are not cut to SMS segments. Plain TwiML has no buttons, so a chat reply's
// buttons become numbered lines the citizen answers by typing.
//
// It only translates: it checks the X-Twilio-Signature against the URL
// configured for Twilio (never the request's Host), validates the form, and
// frames the Reply. It must not keep state, render screens or read the
// text beyond checking it.
package twilio
