// Package sms measures and shapes text for SMS: GSM-7 septets and UCS-2
// code units, segment counts (3GPP TS 23.038), the cheap transliteration
// that keeps Spanish in GSM-7, word-boundary splitting and fitting, and the
// SMS layout of an engine screen (flows.Screen), paged like USSD.
//
// It is pure text work: no I/O, no sessions, no carrier wire formats. It
// must not encode or pack septets — carriers and SMSCs do that — only
// predict what they will charge.
package sms
