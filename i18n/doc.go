// Package i18n holds the words the gateway itself says — navigation labels,
// validation errors, session and back-end outcomes — in Spanish (default),
// English and Kichwa. Picking a citizen's locale is i18n/locale's
// (Negotiate), a leaf that carrier adapters import.
//
// Texts are short enough for a 182-character USSD screen. Text serves them
// pre-rendered, without allocating, on the hot path. An institution's own
// words for some of them (ParseOverrides) are laid over the catalogue with
// With, for its flows, at the same cost. Flows carry their own
// texts: this package must not know about flows, channels or carriers.
package i18n
