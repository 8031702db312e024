package conversation

import (
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// The encoding, in order (uvarint and zigzag varint as in encoding/binary,
// strings as a uvarint length followed by the bytes):
//
//	version byte (codecVersion)
//	Key Phone Channel Carrier Locale    strings
//	Frames   uvarint count, then per frame: Flow string, Version varint, Step string, Return string
//	History  uvarint count, then per mark: Depth varint, Step string
//	Vars     one value: tagNil or tagMap
//	Retries Page Seq                    varints
//	Trail Conversation                  strings
//	CarrierSeq                          varint
//	Started Updated                     varints
//	Ended                               byte 0 or 1
//
// Decoding accepts only the one canonical encoding of each session (minimal
// varints, map keys strictly increasing, no trailing bytes), so equal
// sessions always have equal bytes and the fuzz test can demand that every
// accepted input re-encodes to itself.

// codecVersion leads every encoded session. Sessions outlive a deploy by
// minutes in a shared store, so during a rolling deploy old and new binaries
// read each other's bytes: bump this on any layout change so a mismatch fails
// loudly instead of decoding into a plausible but wrong session.
const codecVersion = 2

// maxDepth bounds how many lists and maps may nest in Vars, counting Vars
// itself. The encoder refuses what the decoder would reject, and hostile
// bytes cannot drive the decoder into deep recursion.
const maxDepth = 32

// Value tags: each value in Vars is one tag byte followed by its payload.
const (
	tagNil    byte = iota
	tagFalse       // no payload
	tagTrue        // no payload
	tagInt         // zigzag varint
	tagFloat       // 8 bytes, IEEE 754 bits little-endian
	tagString      // uvarint length, bytes
	tagList        // uvarint count, values
	tagMap         // uvarint count, then key string and value per entry
)

// ErrMalformed: the bytes are not a session this build can decode (corrupt,
// truncated, hostile or written by an incompatible version). The session
// cannot be recovered; end it cleanly and let the citizen start again.
var ErrMalformed = errors.New("conversation: malformed session encoding")

var (
	_ encoding.BinaryMarshaler   = (*State)(nil)
	_ encoding.BinaryAppender    = (*State)(nil)
	_ encoding.BinaryUnmarshaler = (*State)(nil)
)

// MarshalBinary encodes the session. It fails only when Vars holds a type
// outside the documented set or nests deeper than 32 levels.
func (s *State) MarshalBinary() ([]byte, error) {
	// The 2 KiB budget of a typical session, so it never grows.
	return s.AppendBinary(make([]byte, 0, 2048))
}

// AppendBinary appends the encoding of the session to dst, so a hop can reuse
// one buffer. On error it returns dst unchanged.
func (s *State) AppendBinary(dst []byte) ([]byte, error) {
	b := append(dst, codecVersion)
	b = appendString(b, s.Key)
	b = appendString(b, s.Phone)
	b = appendString(b, s.Channel)
	b = appendString(b, s.Carrier)
	b = appendString(b, s.Locale)

	b = binary.AppendUvarint(b, uint64(len(s.Frames)))
	for _, f := range s.Frames {
		b = appendString(b, f.Flow)
		b = binary.AppendVarint(b, int64(f.Version))
		b = appendString(b, f.Step)
		b = appendString(b, f.Return)
	}
	b = binary.AppendUvarint(b, uint64(len(s.History)))
	for _, m := range s.History {
		b = binary.AppendVarint(b, int64(m.Depth))
		b = appendString(b, m.Step)
	}

	// A nil Vars is kept apart from an empty one so that decoding gives back
	// exactly what was encoded.
	if s.Vars == nil {
		b = append(b, tagNil)
	} else {
		var err error
		if b, err = appendMap(b, s.Vars, 0); err != nil {
			return dst, err
		}
	}

	b = binary.AppendVarint(b, int64(s.Retries))
	b = binary.AppendVarint(b, int64(s.Page))
	b = binary.AppendVarint(b, int64(s.Seq))
	b = appendString(b, s.Trail)
	b = appendString(b, s.Conversation)
	b = binary.AppendVarint(b, int64(s.CarrierSeq))
	b = binary.AppendVarint(b, s.Started)
	b = binary.AppendVarint(b, s.Updated)
	if s.Ended {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue encodes v, which sits inside depth lists and maps.
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case bool:
		if v {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), v), nil
	case int:
		// Expression results are int; they come back as int64, like JSON numbers
		// that were whole.
		return binary.AppendVarint(append(b, tagInt), int64(v)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(v)), nil
	case string:
		return appendString(append(b, tagString), v), nil
	case []any:
		if depth >= maxDepth {
			return b, &varError{msg: "nested deeper than " + strconv.Itoa(maxDepth) + " lists and maps"}
		}
		b = binary.AppendUvarint(append(b, tagList), uint64(len(v)))
		for i, e := range v {
			var err error
			if b, err = appendValue(b, e, depth+1); err != nil {
				return b, prependPath(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return b, nil
	case map[string]any:
		return appendMap(b, v, depth)
	default:
		return b, &varError{msg: fmt.Sprintf("unsupported type %T", v)}
	}
}

func appendMap(b []byte, m map[string]any, depth int) ([]byte, error) {
	if depth >= maxDepth {
		return b, &varError{msg: "nested deeper than " + strconv.Itoa(maxDepth) + " lists and maps"}
	}
	if len(m) > smallMap {
		return appendBigMap(b, m, depth)
	}
	// Sorted keys make the encoding deterministic. The entries stay where
	// the iteration put them and only order, an array of small integers, is
	// sorted: each element packs the first 7 bytes of a key above the index
	// of its entry, so most comparisons are of two integers. Taking the
	// values along with the keys saves looking each one up again, and the
	// arrays keep the common small map from allocating.
	var (
		es    [smallMap]mapEntry
		order [smallMap]uint64
	)
	n := 0
	for k, v := range m {
		es[n] = mapEntry{key: k, val: v}
		order[n] = keyPrefix(k)<<8 | uint64(n)
		n++
	}
	sortOrder(order[:n], &es)

	b = binary.AppendUvarint(append(b, tagMap), uint64(n))
	for _, o := range order[:n] {
		e := &es[o&0xff]
		b = appendString(b, e.key)
		var err error
		if b, err = appendValue(b, e.val, depth+1); err != nil {
			return b, prependPath(err, e.key)
		}
	}
	return b, nil
}

// smallMap is the most entries appendMap sorts on the stack; it must fit
// in the low byte of an order element.
const smallMap = 16

type mapEntry struct {
	key string
	val any
}

// keyPrefix packs the first 7 bytes of k, zero-padded, into the top of an
// integer: when two prefixes differ, they order as their keys do.
func keyPrefix(k string) uint64 {
	var p uint64
	for i := range min(len(k), 7) {
		p |= uint64(k[i]) << (48 - 8*i)
	}
	return p
}

// keyLess compares two order elements, looking at whole keys only when
// their prefixes are equal.
func keyLess(a, b uint64, es *[smallMap]mapEntry) bool {
	if a>>8 != b>>8 {
		return a < b
	}
	return es[a&0xff].key < es[b&0xff].key
}

// sortOrder sorts order by key with an insertion sort, the quickest on so
// few elements. A small map that was decoded, and so filled in key order,
// iterates as a rotation of that order; undoing the rotation first leaves
// the sort one pass of comparisons.
func sortOrder(order []uint64, es *[smallMap]mapEntry) {
	r := 1
	for r < len(order) && !keyLess(order[r], order[r-1], es) {
		r++
	}
	if r >= len(order) {
		return
	}
	var rotated [smallMap]uint64
	n := copy(rotated[:], order[r:])
	copy(rotated[n:], order[:r])
	copy(order, rotated[:len(order)])

	for i := 1; i < len(order); i++ {
		o := order[i]
		j := i
		for ; j > 0 && keyLess(o, order[j-1], es); j-- {
			order[j] = order[j-1]
		}
		order[j] = o
	}
}

func appendBigMap(b []byte, m map[string]any, depth int) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(append(b, tagMap), uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		var err error
		if b, err = appendValue(b, m[k], depth+1); err != nil {
			return b, prependPath(err, k)
		}
	}
	return b, nil
}

// varError names the variable that cannot be encoded, e.g.
// `offices[2].hours`, so the flow author can find it. Values are left out:
// they may be personal data.
type varError struct {
	path string
	msg  string
}

func (e *varError) Error() string {
	return "sessions: encoding var " + e.path + ": " + e.msg
}

// prependPath adds one step (a map key or "[i]") in front of the path of a
// varError while the error unwinds, so the happy path builds no strings.
func prependPath(err error, step string) error {
	ve, ok := err.(*varError)
	if !ok {
		return err
	}
	switch {
	case ve.path == "":
		ve.path = step
	case ve.path[0] == '[':
		ve.path = step + ve.path
	default:
		ve.path = step + "." + ve.path
	}
	return ve
}

// UnmarshalBinary decodes data into s, replacing all of it; on error s is
// left unchanged and the error wraps ErrMalformed. It is safe on hostile
// input: it never panics, bounds nesting, and allocates no more than a small
// constant factor of len(data), because every length and count is checked
// against the bytes that remain before anything is allocated.
func (s *State) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: empty input", ErrMalformed)
	}
	if data[0] != codecVersion {
		return fmt.Errorf("%w: unknown encoding version %d (this build reads %d)", ErrMalformed, data[0], codecVersion)
	}
	// One copy of the whole input; every decoded string is then a substring
	// of it, which saves an allocation per string at the cost of keeping the
	// (small) encoding alive as long as any of its strings. String vars also
	// need boxing in an interface; stringBoxes shares the boxes of the short
	// ones that repeat.
	d := decoder{s: string(data), off: 1}

	var out State
	out.Key = d.string()
	out.Phone = d.string()
	out.Channel = d.string()
	out.Carrier = d.string()
	out.Locale = d.string()

	// A frame takes at least 4 bytes (three empty strings and a version), a
	// mark at least 2.
	if n := d.count(4); n > 0 {
		out.Frames = make([]Frame, n)
		for i := range out.Frames {
			f := &out.Frames[i]
			f.Flow = d.string()
			f.Version = d.int()
			f.Step = d.string()
			f.Return = d.string()
		}
	}
	if n := d.count(2); n > 0 {
		out.History = make([]Mark, n)
		for i := range out.History {
			out.History[i].Depth = d.int()
			out.History[i].Step = d.string()
		}
	}

	switch tag := d.byte(); tag {
	case tagNil:
	case tagMap:
		out.Vars = d.mapValue(0)
	default:
		d.fail(fmt.Sprintf("vars has tag %d, want nil or map", tag))
	}

	out.Retries = d.int()
	out.Page = d.int()
	out.Seq = d.int()
	out.Trail = d.string()
	out.Conversation = d.string()
	out.CarrierSeq = d.int()
	out.Started = d.varint()
	out.Updated = d.varint()
	switch d.byte() {
	case 0:
	case 1:
		out.Ended = true
	default:
		d.fail("ended is not 0 or 1")
	}

	if d.err == nil && d.off != len(d.s) {
		d.fail(strconv.Itoa(len(d.s)-d.off) + " trailing bytes")
	}
	if d.err != nil {
		return d.err
	}
	*s = out
	return nil
}

// decoder reads the encoding with a sticky error: the first failure also
// moves off to the end of the input, so every later read finds nothing left
// and returns a zero value. The decoding code reads straight through and
// checks once at the end, and zero values keep every loop short: counts
// read as 0 and lengths as empty.
type decoder struct {
	s   string
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, d.off)
	}
	d.off = len(d.s)
}

func (d *decoder) byte() byte {
	if d.off < len(d.s) {
		d.off++
		return d.s[d.off-1]
	}
	d.fail("truncated")
	return 0
}

// uvarint reads the one-byte varints that make up most of a session inline
// and leaves the rest to uvarintLong.
func (d *decoder) uvarint() uint64 {
	if d.off < len(d.s) && d.s[d.off] < 0x80 {
		d.off++
		return uint64(d.s[d.off-1])
	}
	return d.uvarintLong()
}

func (d *decoder) uvarintLong() uint64 {
	var x uint64
	for i := range binary.MaxVarintLen64 {
		if d.off >= len(d.s) {
			d.fail("truncated")
			return 0
		}
		c := d.s[d.off]
		d.off++
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			if c == 0 && i > 0 {
				d.fail("varint not minimally encoded")
				return 0
			}
			return x | uint64(c)<<(7*i)
		}
		x |= uint64(c&0x7f) << (7 * i)
	}
	d.fail("varint overflows 64 bits")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) int() int {
	v := d.varint()
	if int64(int(v)) != v {
		d.fail("integer out of range")
		return 0
	}
	return int(v)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.off) {
		d.fail("string longer than the input")
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

// count reads an element count and rejects it unless the remaining input
// could hold that many elements of at least minSize bytes each; this is what
// stops a forged count from allocating gigabytes.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if n > uint64((len(d.s)-d.off)/minSize) {
		d.fail("count larger than the input can hold")
		return 0
	}
	return int(n)
}

func (d *decoder) float() float64 {
	if len(d.s)-d.off < 8 {
		d.fail("truncated float")
		return 0
	}
	b := d.s[d.off : d.off+8]
	u := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	d.off += 8
	return math.Float64frombits(u)
}

// value decodes one tagged value that sits inside depth lists and maps.
func (d *decoder) value(depth int) any {
	switch tag := d.byte(); tag {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagInt:
		return d.varint()
	case tagFloat:
		return d.float()
	case tagString:
		return stringBoxes.box(d.string())
	case tagList:
		if depth >= maxDepth {
			d.fail("lists and maps nested too deep")
			return nil
		}
		l := make([]any, d.count(1)) // each element is at least its tag
		for i := range l {
			l[i] = d.value(depth + 1)
			if d.err != nil {
				return nil
			}
		}
		return l
	case tagMap:
		return d.mapValue(depth)
	default:
		d.fail("unknown value tag " + strconv.Itoa(int(tag)))
		return nil
	}
}

// mapValue decodes the entries of a map whose tag was just read.
func (d *decoder) mapValue(depth int) map[string]any {
	if depth >= maxDepth {
		d.fail("lists and maps nested too deep")
		return nil
	}
	n := d.count(2) // each entry is at least a key length and a tag
	m := make(map[string]any, n)
	var prev string
	for i := range n {
		k := d.string()
		if i > 0 && k <= prev {
			d.fail("map keys not in strictly increasing order")
		}
		m[k] = d.value(depth + 1)
		if d.err != nil {
			return nil
		}
		prev = k
	}
	return m
}
