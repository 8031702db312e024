// Package keys names the store keys kept about a citizen: the hash tag
// each carries, and the profile, channel preference, kept result and PIN
// keys. docs/privacy.md lists every key. It is a leaf, so that the
// notification API reads a citizen's preference and language without
// importing the gateway.
package keys

import (
	"strings"
)

// untaggedKinds are the keys that named a citizen without a hash tag
// before keys carried one: "profile:+593991234567".
var untaggedKinds = []string{"profile:", "pref:", "pending:", "pin:", "pinfail:"}

// Retagged answers the key that a record kept under an untagged key of an
// earlier version has now, and false for a key that needs no move. It is
// the rename of the upgrade (sessions.Redis.Rekey): profiles, channel
// preferences, kept results and PINs by any number; conversations by an
// E.164 number — a conversation without a number is keyed by its carrier's
// session and keeps its key.
func Retagged(key string) (string, bool) {
	if strings.ContainsRune(key, '{') {
		return "", false
	}
	for _, kind := range untaggedKinds {
		if who, ok := strings.CutPrefix(key, kind); ok && who != "" {
			return kind + Tag(who), true
		}
	}
	for _, channel := range []string{"ussd:", "sms:"} {
		if who, ok := strings.CutPrefix(key, channel); ok && e164(who) {
			return channel + Tag(who), true
		}
	}
	if rest, ok := strings.CutPrefix(key, "chat:"); ok {
		if carrier, who, ok := strings.Cut(rest, ":"); ok && e164(who) {
			return "chat:" + carrier + ":" + Tag(who), true
		}
	}
	return "", false
}

func e164(s string) bool {
	if len(s) < 2 || s[0] != '+' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Tag is the hash tag in every key kept about a phone number. The Redis
// store turns it into a keyed digest of the number
// (sessions.RedisOptions.Tag), so that its key space names no one, and on
// a Redis Cluster it keeps a citizen's keys in one slot, where they can be
// read in one command. docs/privacy.md lists every key.
func Tag(phone string) string { return "{" + phone + "}" }

// Profile is the store key of what is remembered about a phone number.
func Profile(phone string) string { return "profile:" + Tag(phone) }

// Preference is the store key of the text channel a citizen last used
// ("sms", "whatsapp", "telegram"): where notifications reach them.
func Preference(phone string) string { return "pref:" + Tag(phone) }

// Pending is the store key of a result kept for a citizen's next contact.
func Pending(phone string) string { return "pending:" + Tag(phone) }

// PIN and PINFail are the store keys of a citizen's PIN (hashed) and of
// the count of wrong PINs entered.
func PIN(phone string) string     { return "pin:" + Tag(phone) }
func PINFail(phone string) string { return "pinfail:" + Tag(phone) }

// Rated records that a number was asked to rate flow (the rate step):
// it lives for the step's period, so that the number is not asked again
// before, whichever instance serves it.
func Rated(phone, flow string) string { return "rated:" + Tag(phone) + ":" + flow }

// Question is the store key of the last question the gateway asked a
// number on its own (a reminder's "1 confirmar, 2 anular"), whose answer
// runs a flow; it lives until the answer stops counting.
func Question(phone string) string { return "question:" + Tag(phone) }
