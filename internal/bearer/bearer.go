// Package bearer reads the token of an Authorization header with the
// Bearer scheme, so that every endpoint that takes one (the notification
// API, the admin routes) reads it alike.
package bearer

import "strings"

// Token returns the token of an Authorization header that uses the
// Bearer scheme. Every endpoint reads bearer tokens through it, so they
// all agree: the scheme is case-insensitive (RFC 7235 §2.1: "bearer x"
// is "Bearer x") and spaces around the token are ignored.
func Token(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
