package conversation

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// Decoding a string var puts it in an interface, and that allocates a small
// header for every string on every hop. Most of these strings repeat from
// hop to hop and across citizens (answers, office names, hours, "si"), so
// the decoder hands out shared, already boxed copies of the short ones.
//
// The table is direct-mapped: a fixed number of slots, each holding the last
// string admitted to it, so whatever the input it holds at most internSlots
// strings of at most internMaxLen bytes (under 400 KiB with their boxes),
// and a lookup is one hash and one atomic load. A string is admitted only
// when it misses its slot twice in a row, so strings seen once (a cédula, a
// name) neither cost a copy nor evict the ones that repeat. Admitted strings
// are copies, so the table never keeps a decoder's input alive. Numbers of
// seven digits or more (cédulas, RUCs, phone numbers, case numbers) are
// never admitted: they identify a citizen and rarely repeat across them.
const (
	internSlots  = 4096 // a power of two
	internMaxLen = 64
)

type internTable struct {
	seed  maphash.Seed
	slots [internSlots]atomic.Value  // a boxed string, or nothing yet
	seen  [internSlots]atomic.Uint32 // hash of the last string that missed the slot
}

var stringBoxes = &internTable{seed: maphash.MakeSeed()}

// box returns s in an interface, shared with earlier calls when s is short
// and has been seen before. It is safe for concurrent use.
func (t *internTable) box(s string) any {
	if len(s) == 0 || len(s) > internMaxLen || identifier(s) {
		return s
	}
	h := maphash.String(t.seed, s)
	i := h & (internSlots - 1)
	if v := t.slots[i].Load(); v != nil {
		if old, _ := v.(string); old == s {
			return v
		}
	}
	// The high bits: the low ones chose the slot and are the same for
	// every string that lands in it.
	tag := uint32(h >> 32)
	if t.seen[i].Load() != tag {
		t.seen[i].Store(tag)
		return s
	}
	v := any(strings.Clone(s))
	t.slots[i].Store(v)
	return v
}

// identifier reports whether s is all digits and at least seven long.
func identifier(s string) bool {
	if len(s) < 7 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
