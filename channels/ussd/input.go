package ussd

import "strings"

// LatestInput extracts the newest answer from a cumulative USSD history such
// as Africa's Talking's text ("" on the first hop, then "1", "1*2",
// "1*2*0912345678"). trail is the history already consumed, kept in the
// session; newTrail (always text) replaces it.
//
// Splitting text on "*" would break answers that contain "*" themselves, so
// the new input is whatever follows the consumed trail:
//
//   - text == trail: a retry or duplicate of a hop already applied; input is
//     "" and dup is true. On a session's very first hop ("" and "") dup is
//     also true; a caller without a session yet ignores it.
//   - trail == "": the whole text (the first answer, or a dialled shortcut
//     such as "1*2" that the caller may treat as several answers).
//   - text starts with trail+"*": the rest, which may itself contain "*".
//   - otherwise the operator sent only the latest answer (or rewrote the
//     history): the whole text.
//
// One ambiguity is inherent to operators that send only the latest answer:
// the same answer twice in a row looks like a duplicate.
func LatestInput(trail, text string) (input, newTrail string, dup bool) {
	switch {
	case text == trail:
		return "", text, true
	case trail == "":
		return text, text, false
	case len(text) > len(trail) && text[len(trail)] == '*' && strings.HasPrefix(text, trail):
		return text[len(trail)+1:], text, false
	default:
		return text, text, false
	}
}
