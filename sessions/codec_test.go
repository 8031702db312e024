package sessions

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// typicalSession is a citizen three flows deep, choosing among five offices:
// the shape the size budget and the benchmarks are measured on.
func typicalSession() *Session {
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
	return &Session{
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
		in   *Session
		want *Session // nil: same as in
	}{
		{name: "empty session", in: &Session{}},
		{name: "typical session", in: typicalSession()},
		{name: "empty vars stay empty, not nil", in: &Session{Vars: map[string]any{}}},
		{name: "ended session", in: &Session{Key: "sms:+51987654321", Ended: true, Seq: 40}},
		{name: "unicode and bytes in strings", in: &Session{
			Locale: "qu",
			Trail:  "ñandú\x00\xff",
			Vars:   map[string]any{"": "empty key", "clave ñ": "Ñuñoa 🚌", "\xff": "\x00"},
		}},
		{name: "integer extremes", in: &Session{
			Retries: math.MinInt64, Page: math.MaxInt64, Seq: -1,
			Started: math.MinInt64, Updated: math.MaxInt64,
			Frames:  []Frame{{Version: math.MinInt64}},
			History: []Mark{{Depth: math.MaxInt64}},
			Vars:    map[string]any{"min": int64(math.MinInt64), "max": int64(math.MaxInt64), "zero": int64(0)},
		}},
		{name: "floats", in: &Session{Vars: map[string]any{
			"zero": 0.0, "neg zero": math.Copysign(0, -1), "inf": math.Inf(1), "-inf": math.Inf(-1),
			"tiny": math.SmallestNonzeroFloat64, "max": math.MaxFloat64, "half": 0.5,
		}}},
		{name: "empty containers nested", in: &Session{Vars: map[string]any{
			"list": []any{}, "map": map[string]any{}, "both": []any{map[string]any{}, []any{}, nil},
		}}},
		{name: "int is stored as int64", in: &Session{Vars: map[string]any{"n": 42, "l": []any{-7}}},
			want: &Session{Vars: map[string]any{"n": int64(42), "l": []any{int64(-7)}}}},
		{name: "nesting at the limit", in: &Session{Vars: map[string]any{"deep": nested(maxDepth - 1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.in.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			var got Session
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
	in := &Session{Vars: map[string]any{"nan": math.NaN()}}
	b, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Session
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
			got, err := (&Session{Vars: tt.vars}).AppendBinary(dst)
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
	if _, err := (&Session{Vars: m}).MarshalBinary(); err == nil {
		t.Fatal("a map containing itself encoded without error")
	}
}

func TestUnmarshalErrors(t *testing.T) {
	good, err := (&Session{Vars: map[string]any{"a": true, "b": "x"}}).MarshalBinary()
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
			s := Session{Key: "untouched"}
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
		var s Session
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
	for _, s := range []*Session{typicalSession(), {}, {Vars: map[string]any{"deep": nested(maxDepth - 1)}}} {
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
		var s Session
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
		var again Session
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
		var s Session
		if err := s.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}
