package wire

import (
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

const (
	// maxPhone bounds the raw number: "+" and at most 15 digits (E.164),
	// with slack for a national trunk prefix.
	maxPhone = 20
	// maxE164 is "+" and E.164's fifteen digits.
	maxE164 = 16
)

// E164 normalises the caller's number, read from the request field named
// field. Numbers with "+" are read as international. Numbers without it
// are read in region first (a national "0991234567"), then as
// international digits whose "+" was dropped ("233244123456", as Hubtel
// and Nalo send them). Only digits are accepted because the parser would
// otherwise turn letters into keypad digits ("+254711XXXYYY" is "valid").
// Possible, not valid, is required: libphonenumber's ranges lag behind
// operators, and refusing a new range would lock real citizens out.
//
// A leading space is read as "+": it is what an unencoded "+" in a form
// body decodes to.
func E164(field, raw, region string) (string, error) {
	s := raw
	if strings.HasPrefix(s, " ") {
		s = "+" + s[1:]
	}
	digits, plus := strings.CutPrefix(s, "+")
	switch {
	case s == "":
		return "", &FieldError{field, "missing"}
	case len(s) > maxPhone || digits == "" || strings.ContainsFunc(digits, notDigit):
		return "", &FieldError{field, "not a phone number"}
	}
	cacheKey := region + "|" + s
	if e, ok := numbers.get(cacheKey); ok {
		return e, nil
	}
	try := []string{s}
	if !plus {
		try = append(try, "+"+digits)
	}
	for _, t := range try {
		num, err := phonenumbers.Parse(t, region)
		if err != nil || !phonenumbers.IsPossibleNumber(num) {
			continue
		}
		// libphonenumber formats some long service numbers (Japan's) with
		// more digits than E.164's fifteen; no citizen's phone has them.
		if e := phonenumbers.Format(num, phonenumbers.E164); len(e) <= maxE164 {
			numbers.put(cacheKey, e)
			return e, nil
		}
	}
	return "", &FieldError{field, "not a phone number"}
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

// numbers remembers numbers already normalised. Parsing with
// libphonenumber costs tens of microseconds — the largest part of a hop —
// and a citizen's number arrives on every hop of a conversation. Only
// valid numbers are kept, so a flood of garbage cannot fill it; when full
// it starts over, which bounds its memory without bookkeeping.
var numbers = &numberCache{m: make(map[string]string)}

const maxCachedNumbers = 100_000

type numberCache struct {
	mu sync.RWMutex
	m  map[string]string
}

func (c *numberCache) get(k string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[k]
	return e, ok
}

func (c *numberCache) put(k, e string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedNumbers {
		c.m = make(map[string]string)
	}
	c.m[k] = e
}
