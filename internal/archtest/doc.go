// Package archtest holds no code, only a test: it fails when an import
// runs against the direction the architecture wants (a carrier adapter
// reaching the gateway, the engine or a store; the engine reaching a
// back-end protocol or a session store). Rules are one line each in
// archtest_test.go; a known exception is listed there until it is gone.
// It also keeps the diagram of docs/architecture.md true to the imports
// (picture_test.go).
package archtest
