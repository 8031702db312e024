// Package carriertest holds what carrier adapter tests share: a Hopper
// that stands in for the gateway, and posting a request through a real
// echo router. It is for tests only and must not grow assertions about a
// particular provider's format.
package carriertest
