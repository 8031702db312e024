// Package kanneltest runs real Kannel on loopback for tests: bearerbox with
// a fake SMSC, smsbox calling the handler under test, and Kannel's own
// fakesmsc standing in for the handset side — messages are injected
// through it and Kannel's replies read back from it.
//
// It is test support only: every process it starts lives in t.TempDir()
// and on 127.0.0.1, is bounded by timeouts, and is killed when the test
// ends, passed or failed. Without the Kannel binaries it skips the test,
// or fails it where CI or VENTANILLA_REQUIRE_KANNEL=1 asks for them.
package kanneltest
