// Package hubtel adapts Hubtel's USSD (Programmable Services) callback: a
// JSON POST per hop (Mobile, SessionId, ServiceCode, Type, Message,
// Operator, Sequence, ClientState) answered with JSON {Type, Message}:
// Type "Response" while the session goes on, "Release" to end it.
//
// It only translates: the first hop (Initiation) carries what the citizen
// dialled, which becomes the Inbound's ServiceCode; later hops (Response)
// carry one answer each; Release and Timeout say Hubtel closed the
// session. It must not render screens, keep state or use ClientState: the
// gateway keeps the session.
package hubtel
