// Package africastalking adapts Africa's Talking's USSD callback: a form
// POST per hop (sessionId, serviceCode, phoneNumber, networkCode and the
// cumulative text history) answered with a plain-text "CON …" or "END …",
// and its end-of-session notification (a form POST with the session's
// status, answered with an empty 200).
//
// It only translates: it validates the form, hands a carrier.Inbound to
// the gateway's Hopper and frames the Reply. It must not interpret the
// text history, render screens or keep state; the engine does that.
//
// Screen budget: Africa's Talking documents the CON/END prefix but not
// whether its per-screen limit counts it. The prefix is a framing marker
// that never reaches the handset, yet third-party guides disagree on
// whether the limit counts it, so it is reserved: with the default Limit
// of 182 the gateway is asked for screens of at most 178 characters, and
// the whole body ("CON " included) never exceeds 182.
package africastalking
