package conversation

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// typicalSession is a citizen three flows deep, choosing among five offices:
// the shape the size budget and the benchmarks are measured on.
func typicalSession() *State {
	offices := make([]any, 5)
	for i := range offices {
		offices[i] = map[string]any{
			"id":      "OF-00" + string(rune('1'+i)),
			"name":    "Oficina Desconcentrada Quito Norte " + string(rune('A'+i)),
			"address": "Av. Amazonas N34-120 y Av. Naciones Unidas",
			"hours":   "08:30-16:30",
			"lat":     -0.1807 + float64(i)/100,
			"lon":     -78.4678,
			"queue":   int64(14 + i),
			"open":    i != 3,
		}
	}
	return &State{
		Key:          "ussd:+593991234567",
		Conversation: "ATUid_3f9a1c2e7b5d4e60a8c1b2d3",
		Phone:        "+593991234567",
		Channel:      "ussd",
		Carrier:      "africastalking",
		Locale:       "es",
		Frames: []Frame{
			{Flow: "menu", Version: 12, Step: "pick_service"},
			{Flow: "turnos", Version: 7, Step: "pick_office", Return: "after_turnos"},
			{Flow: "buscar_oficina", Version: 3, Step: "list_offices", Return: "confirm_office"},
		},
		History: []Mark{
			{Depth: 1, Step: "pick_service"},
			{Depth: 2, Step: "ask_cedula"},
			{Depth: 2, Step: "pick_district"},
			{Depth: 3, Step: "list_offices"},
		},
		Vars: map[string]any{
			"cedula":    "1712345678",
			"nombre":    "María Quispe Mamani",
			"district":  "San Juan de Lurigancho",
			"verified":  true,
			"attempts":  int64(1),
			"score":     0.87,
			"tramite":   nil,
			"offices":   offices,
			"page_size": int64(5),
		},
		Page:    1,
		Seq:     9,
		Trail:   "1*2*1712345678*3",
		Started: 1763890000000,
		Updated: 1763890042000,
	}
}

func nested(depth int) any {
	var v any = "leaf"
	for i := range depth {
		if i%2 == 0 {
			v = []any{v}
		} else {
			v = map[string]any{"k": v}
		}
	}
	return v
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   *State
		want *State // nil: same as in
	}{
		{name: "empty session", in: &State{}},
		{name: "typical session", in: typicalSession()},
		{name: "empty vars stay empty, not nil", in: &State{Vars: map[string]any{}}},
		{name: "ended session", in: &State{Key: "sms:+51987654321", Ended: true, Seq: 40}},
		{name: "unicode and bytes in strings", in: &State{
			Locale: "qu",
			Trail:  "ñandú\x00\xff",
			Vars:   map[string]any{"": "empty key", "clave ñ": "Ñuñoa 🚌", "\xff": "\x00"},
		}},
		{name: "integer extremes", in: &State{
			Retries: math.MinInt64, Page: math.MaxInt64, Seq: -1,
			Started: math.MinInt64, Updated: math.MaxInt64,
			Frames:  []Frame{{Version: math.MinInt64}},
			History: []Mark{{Depth: math.MaxInt64}},
			Vars:    map[string]any{"min": int64(math.MinInt64), "max": int64(math.MaxInt64), "zero": int64(0)},
		}},
		{name: "floats", in: &State{Vars: map[string]any{
			"zero": 0.0, "neg zero": math.Copysign(0, -1), "inf": math.Inf(1), "-inf": math.Inf(-1),
			"tiny": math.SmallestNonzeroFloat64, "max": math.MaxFloat64, "half": 0.5,
		}}},
		{name: "empty containers nested", in: &State{Vars: map[string]any{
			"list": []any{}, "map": map[string]any{}, "both": []any{map[string]any{}, []any{}, nil},
		}}},
		{name: "int is stored as int64", in: &State{Vars: map[string]any{"n": 42, "l": []any{-7}}},
			want: &State{Vars: map[string]any{"n": int64(42), "l": []any{int64(-7)}}}},
		{name: "nesting at the limit", in: &State{Vars: map[string]any{"deep": nested(maxDepth - 1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.in.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			var got State
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if !reflect.DeepEqual(&got, want) {
				t.Errorf("round trip:\n got %#v\nwant %#v", &got, want)
			}
		})
	}
}

func TestRoundTripNaN(t *testing.T) {
	in := &State{Vars: map[string]any{"nan": math.NaN()}}
	b, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got State
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if f, ok := got.Vars["nan"].(float64); !ok || !math.IsNaN(f) {
		t.Errorf("nan decoded as %#v", got.Vars["nan"])
	}
}

func TestMarshalIsDeterministic(t *testing.T) {
	first, err := typicalSession().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// Map iteration order is random; twenty encodings would differ if the
	// keys were not sorted.
	for range 20 {
		again, err := typicalSession().MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatal("two encodings of the same session differ")
		}
	}
}

func TestAppendBinaryAppends(t *testing.T) {
	s := typicalSession()
	alone, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.AppendBinary([]byte("prefix"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append([]byte("prefix"), alone...)) {
		t.Error("AppendBinary did not append the same bytes MarshalBinary returns")
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]any
		want string
	}{
		{"unsupported type at top", map[string]any{"when": struct{}{}},
			"sessions: encoding var when: unsupported type struct {}"},
		{"unsupported type inside list and map", map[string]any{"offices": []any{nil, map[string]any{"tags": []string{"x"}}}},
			"sessions: encoding var offices[1].tags: unsupported type []string"},
		{"list in list", map[string]any{"grid": []any{[]any{int32(1)}}},
			"sessions: encoding var grid[0][0]: unsupported type int32"},
		{"too deep", map[string]any{"deep": nested(maxDepth)},
			"nested deeper than 32 lists and maps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := (&State{Vars: tt.vars}).AppendBinary(dst)
			if err == nil {
				t.Fatal("AppendBinary succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if string(got) != "keep" {
				t.Errorf("on error AppendBinary returned %q, want dst unchanged", got)
			}
		})
	}
}

func TestMarshalRefusesCycles(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	if _, err := (&State{Vars: m}).MarshalBinary(); err == nil {
		t.Fatal("a map containing itself encoded without error")
	}
}

func TestMarshalSortsKeys(t *testing.T) {
	// Keys that share their first 7 bytes, prefixes of each other, empty
	// and non-ASCII, in maps on both sides of smallMap. A missorted map
	// would not decode: the decoder demands strictly increasing keys.
	pool := []string{"", "a", "a\x00", "ab", "abcdefg", "abcdefg\x00", "abcdefga", "abcdefgb",
		"abcdefgh1", "abcdefgh2", "b", "ñandú", "\xff", "\xff\xff", "zz", "office", "offices", "z"}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 40 {
		m := make(map[string]any, n)
		for len(m) < n {
			k := pool[rng.IntN(len(pool))]
			if len(m) >= len(pool)/2 || rng.IntN(2) == 0 {
				k += strconv.Itoa(rng.IntN(1000))
			}
			m[k] = int64(len(m))
		}
		t.Run(strconv.Itoa(n)+" keys", func(t *testing.T) {
			s := &State{Vars: m}
			b, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got State
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if !reflect.DeepEqual(got.Vars, m) {
				t.Fatalf("round trip:\n got %v\nwant %v", got.Vars, m)
			}
			// A decoded map was filled in key order, which the encoder
			// takes a shortcut for; it must give the same bytes.
			for range 10 {
				again, err := got.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again, b) {
					t.Fatal("re-encoding a decoded session gave other bytes")
				}
			}
		})
	}
}

func TestCodecInternSharesRepeatedStrings(t *testing.T) {
	tab := &internTable{seed: maphash.MakeSeed()}
	input := strings.Repeat("x", 100) + "Oficina Norte" + strings.Repeat("y", 100)
	s := input[100:113]

	first := tab.box(s)
	second := tab.box(s)
	third := tab.box(s)
	for i, v := range []any{first, second, third} {
		if v != any("Oficina Norte") {
			t.Fatalf("box %d gave %#v", i+1, v)
		}
	}
	p2, p3 := unsafe.StringData(second.(string)), unsafe.StringData(third.(string))
	if p2 != p3 {
		t.Error("the third sighting of a string did not get the box shared by the second")
	}
	if in := unsafe.StringData(input); uintptr(unsafe.Pointer(p3)) >= uintptr(unsafe.Pointer(in)) &&
		uintptr(unsafe.Pointer(p3)) < uintptr(unsafe.Pointer(in))+uintptr(len(input)) {
		t.Error("the table keeps a substring of the decoder's input, and so the whole input, alive")
	}

	// A cédula seen on every hop of a conversation is never kept.
	cedula := input[:0] + "1710034065"
	tab.box(cedula)
	if a, b := tab.box(cedula), tab.box(cedula); unsafe.StringData(a.(string)) != unsafe.StringData(cedula) ||
		unsafe.StringData(b.(string)) != unsafe.StringData(cedula) {
		t.Error("an identification number was copied into the table")
	}

	long := strings.Repeat("z", internMaxLen+1)
	tab.box(long)
	if a, b := tab.box(long), tab.box(long); unsafe.StringData(a.(string)) != unsafe.StringData(long) ||
		unsafe.StringData(b.(string)) != unsafe.StringData(long) {
		t.Error("a string longer than internMaxLen was copied into the table")
	}
}

func TestCodecInternBounded(t *testing.T) {
	tab := &internTable{seed: maphash.MakeSeed()}
	const distinct = 50_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range distinct {
		n := strconv.Itoa(i)
		s := strings.Repeat("x", internMaxLen-len(n)) + n
		// Twice, so that every string is admitted.
		if v := tab.box(s); v != any(s) {
			t.Fatalf("box(%q) = %#v", s, v)
		}
		if v := tab.box(s); v != any(s) {
			t.Fatalf("box(%q) = %#v", s, v)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)

	held := 0
	for i := range tab.slots {
		if v := tab.slots[i].Load(); v != nil {
			held++
			if n := len(v.(string)); n > internMaxLen {
				t.Fatalf("the table holds a %d-byte string", n)
			}
		}
	}
	if held == 0 || held > internSlots {
		t.Errorf("the table holds %d strings, want 1 to %d", held, internSlots)
	}
	// Unbounded, the table would hold about distinct*(internMaxLen+16)
	// bytes, 4 MB; bounded, at most internSlots of them plus their boxes.
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if limit := int64(2 * internSlots * (internMaxLen + 16)); grown > limit {
		t.Errorf("after %d distinct strings the heap grew by %d bytes, want at most %d", distinct, grown, limit)
	}
	runtime.KeepAlive(tab)
}

func TestUnmarshalConcurrent(t *testing.T) {
	// Many hops decode at once through the shared string table, with
	// strings that repeat across sessions and strings that collide.
	const workers, sessions = 8, 50
	data := make([][]byte, sessions)
	want := make([]*State, sessions)
	for i := range data {
		s := typicalSession()
		s.Vars["nombre"] = "Ciudadano " + strconv.Itoa(i%7)
		s.Vars["cedula"] = strconv.Itoa(1712345000 + i)
		want[i] = s
		var err error
		if data[i], err = s.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range 20 {
				i := (w*31 + r*7) % sessions
				var s State
				if err := s.UnmarshalBinary(data[i]); err != nil {
					errs <- err
					return
				}
				if !reflect.DeepEqual(s.Vars, want[i].Vars) {
					errs <- fmt.Errorf("session %d decoded to other vars", i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	good, err := (&State{Vars: map[string]any{"a": true, "b": "x"}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// Offsets into good: version, 5 empty strings, 2 empty counts, then Vars.
	const vars = 8
	edit := func(f func(b []byte) []byte) []byte {
		return f(bytes.Clone(good))
	}
	deep := []byte{codecVersion, 0, 0, 0, 0, 0, 0, 0, tagMap, 1, 1, 'k'}
	for range maxDepth {
		deep = append(deep, tagList, 1)
	}

	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty input"},
		{"unknown version", edit(func(b []byte) []byte { b[0] = codecVersion + 1; return b }), "unknown encoding version " + strconv.Itoa(codecVersion+1)},
		{"garbage", []byte("GET / HTTP/1.1\r\n"), "unknown encoding version"},
		{"trailing byte", append(bytes.Clone(good), 0), "1 trailing bytes"},
		{"string longer than input", []byte{codecVersion, 0xff, 0xff, 0xff, 0xff, 0x0f}, "string longer than the input"},
		{"frame count larger than input", []byte{codecVersion, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, "count larger than the input"},
		{"varint overflow", []byte{codecVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, "overflows 64 bits"},
		{"non-minimal varint", []byte{codecVersion, 0x80, 0x00}, "not minimally encoded"},
		{"vars neither nil nor map", edit(func(b []byte) []byte { b[vars] = tagList; return b }), "vars has tag 6"},
		{"unknown value tag", edit(func(b []byte) []byte { b[vars+4] = 99; return b }), "unknown value tag 99"},
		{"keys out of order", edit(func(b []byte) []byte { b[vars+3] = 'c'; return b }), "strictly increasing"},
		{"duplicate keys", edit(func(b []byte) []byte { b[vars+6] = 'a'; return b }), "strictly increasing"},
		{"ended not a bool", edit(func(b []byte) []byte { b[len(b)-1] = 2; return b }), "ended is not 0 or 1"},
		{"nested too deep", deep, "nested too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := State{Key: "untouched"}
			err := s.UnmarshalBinary(tt.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if s.Key != "untouched" {
				t.Error("a failed UnmarshalBinary changed the session")
			}
		})
	}
}

func TestUnmarshalRejectsEveryTruncation(t *testing.T) {
	b, err := typicalSession().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		var s State
		if err := s.UnmarshalBinary(b[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("first %d of %d bytes: error %v, want ErrMalformed", n, len(b), err)
		}
	}
}

func TestTypicalSessionSize(t *testing.T) {
	b, err := typicalSession().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("typical session encodes to %d bytes", len(b))
	if len(b) > 2048 {
		t.Errorf("typical session encodes to %d bytes, budget is 2048", len(b))
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	for _, s := range []*State{typicalSession(), {}, {Vars: map[string]any{"deep": nested(maxDepth - 1)}}} {
		b, err := s.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte("\x01garbage\xff\xfe\x00"))
	f.Add([]byte{codecVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})

	f.Fuzz(func(t *testing.T, data []byte) {
		var s State
		if err := s.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		enc, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded session does not encode: %v", err)
		}
		// Only canonical encodings decode, so what decoded re-encodes to
		// exactly the input.
		if !bytes.Equal(enc, data) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", data, enc)
		}
		var again State
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded session does not decode: %v", err)
		}
		if !hasNaN(s.Vars) && !reflect.DeepEqual(s, again) {
			t.Fatalf("round trip differs:\n got %#v\nwant %#v", again, s)
		}
	})
}

// hasNaN reports whether v holds a NaN, which DeepEqual never finds equal.
func hasNaN(v any) bool {
	switch v := v.(type) {
	case float64:
		return math.IsNaN(v)
	case []any:
		for _, e := range v {
			if hasNaN(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range v {
			if hasNaN(e) {
				return true
			}
		}
	}
	return false
}

func BenchmarkMarshal(b *testing.B) {
	s := typicalSession()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBinary(b *testing.B) {
	s := typicalSession()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = s.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	data, err := typicalSession().MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var s State
		if err := s.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendBinaryAfterDecode encodes what a hop encodes: a session
// that was decoded at the start of the hop.
func BenchmarkAppendBinaryAfterDecode(b *testing.B) {
	data, err := typicalSession().MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	var s State
	if err := s.UnmarshalBinary(data); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = s.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalManyCitizens decodes the sessions of many citizens in
// turn, whose names and cédulas do not repeat between them.
func BenchmarkUnmarshalManyCitizens(b *testing.B) {
	data := make([][]byte, 10_000)
	for i := range data {
		s := typicalSession()
		s.Phone = "+59399" + strconv.Itoa(1000000+i)
		s.Vars["cedula"] = strconv.Itoa(1712000000 + i)
		s.Vars["nombre"] = "Ciudadana " + strconv.Itoa(i)
		var err error
		if data[i], err = s.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var s State
		if err := s.UnmarshalBinary(data[i%len(data)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkUnmarshalParallel(b *testing.B) {
	data, err := typicalSession().MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var s State
			if err := s.UnmarshalBinary(data); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
