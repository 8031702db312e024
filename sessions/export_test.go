package sessions

// For the external tests of this package (contract_test.go).
type FakeClock = fakeClock

var NewFakeClock = newFakeClock
