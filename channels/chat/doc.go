// Package chat turns an engine screen (flows.Screen) into a
// platform-neutral chat message: text plus rows of buttons whose data is
// what the citizen would have typed, so that pressing "Atrás" and typing
// "0" are the same answer to the engine. Long option lists become pages of
// buttons moved through with the engine's own More and Back keys.
//
// It is pure: no I/O, no platform SDKs, no wire formats. Platform adapters
// (Telegram, WhatsApp…) map Message onto their API.
package chat
