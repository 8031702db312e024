// Package kannel adapts Kannel's smsbox HTTP interface: USSD that operators'
// SMPP gateways deliver through Kannel (route /ussd/kannel), SMS (route
// /sms/kannel), and a Sender for Kannel's sendsms interface.
//
// smsbox calls the gateway's get-url with the placeholders in Query; a
// reply's text/plain body is what Kannel sends back, its X-Kannel-Coding
// and X-Kannel-Meta-Data headers say how (UCS-2, and for USSD the
// ussd_service_op TLV). The adapters only translate: they validate the
// call, hand a carrier.Inbound to the Hopper and frame the Reply. They
// must not keep state, render screens or read the text beyond decoding it
// (and telling a dialled string from other text on a USSD begin).
//
// A USSD call the adapter cannot accept still gets a final USSD screen,
// never an HTTP error, which smsbox would relay as a plain message that
// leaves the operator's dialogue open. The Kannel configuration these
// adapters expect is shipped in conf/ (and tested as shipped); README.md
// has the facts about Kannel they rely on.
package kannel
