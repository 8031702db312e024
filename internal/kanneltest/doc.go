// Package kanneltest runs real Kannel on loopback for tests, from the
// configuration shipped in carriers/kannel/conf: bearerbox, the SMS smsbox
// and, when asked, the USSD smsbox, calling the handlers under test.
// Kannel's own fakesmsc stands in for the operator on the SMS link
// (messages injected through it, replies read back from it); a small SMPP
// SMSC in this package stands in on the USSD link, because the USSD
// dialogue lives in SMPP TLVs that fakesmsc cannot carry.
//
// It is test support only: every process it starts lives in t.TempDir()
// and on 127.0.0.1, is bounded by timeouts, and is killed when the test
// ends, passed or failed. Without the Kannel binaries it skips the test,
// or fails it where CI or VENTANILLA_REQUIRE_KANNEL=1 asks for them.
package kanneltest
