// Package wire holds what every carrier adapter does the same way: reading
// a bounded request body, refusing malformed input with a 4xx that names
// the field, normalising phone numbers, checking text that reaches the
// engine, and answering a citizen even when the gateway fails.
//
// It knows no provider's field names or framing and keeps no state; each
// adapter decides which checks its fields need and how its reply looks.
package wire
