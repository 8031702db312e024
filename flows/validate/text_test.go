package validate

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

func TestRange(t *testing.T) {
	oneToFive := map[string]any{"Min": int64(1), "Max": int64(5)}
	runChecks(t, mustCompile(t, "range", map[string]any{"min": 1, "max": 5}), []check{
		{name: "1 to 5/lowest", in: "1", want: int64(1)},
		{name: "1 to 5/highest", in: "5", want: int64(5)},
		{name: "1 to 5/surrounding spaces", in: " 3 ", want: int64(3)},
		{name: "1 to 5/tab and newline", in: "\t3\n", want: int64(3)},
		{name: "1 to 5/leading zero", in: "03", want: int64(3)},
		{name: "1 to 5/plus sign", in: "+2", want: int64(2)},
		{name: "1 to 5/below", in: "0", fail: i18n.ValidateRange, data: oneToFive},
		{name: "1 to 5/above", in: "6", fail: i18n.ValidateRange, data: oneToFive},
		{name: "1 to 5/negative", in: "-1", fail: i18n.ValidateRange},
		{name: "1 to 5/decimal", in: "2.0", fail: i18n.ValidateRange},
		{name: "1 to 5/decimal comma", in: "2,5", fail: i18n.ValidateRange},
		{name: "1 to 5/word", in: "tres", fail: i18n.ValidateRange},
		{name: "1 to 5/space inside", in: "1 2", fail: i18n.ValidateRange},
		{name: "1 to 5/sign alone", in: "-", fail: i18n.ValidateRange},
		{name: "1 to 5/two signs", in: "+-1", fail: i18n.ValidateRange},
		{name: "1 to 5/overflow", in: "99999999999999999999999", fail: i18n.ValidateRange},
		{name: "1 to 5/empty", in: "", fail: i18n.ValidateRequired},
	})
	runChecks(t, mustCompile(t, "range", map[string]any{"min": -10, "max": -1}), []check{
		{name: "negative/inside", in: "-5", want: int64(-5)},
		{name: "negative/zero above", in: "0", fail: i18n.ValidateRange},
	})
	runChecks(t, mustCompile(t, "range", map[string]any{"min": 18}), []check{
		{name: "only min/large", in: "120", want: int64(120)},
		{name: "only min/data has no Max", in: "17", fail: i18n.ValidateRange, data: map[string]any{"Min": int64(18)}},
	})
	runChecks(t, mustCompile(t, "range", map[string]any{"max": int64(9223372036854775807)}), []check{
		{name: "int64 edges/largest", in: "9223372036854775807", want: int64(9223372036854775807)},
		{name: "int64 edges/smallest", in: "-9223372036854775808", want: int64(-9223372036854775808)},
		{name: "int64 edges/one past largest", in: "9223372036854775808", fail: i18n.ValidateRange},
		{name: "int64 edges/one past smallest", in: "-9223372036854775809", fail: i18n.ValidateRange},
	})
}

func TestRegex(t *testing.T) {
	plate := mustCompile(t, "regex", map[string]any{"pattern": "[A-Z]{3}-?[0-9]{4}", "max_length": 8})
	runChecks(t, plate, []check{
		{name: "plate/with dash", in: "PBA-1234", want: "PBA-1234"},
		{name: "plate/without dash", in: "PBA1234", want: "PBA1234"},
		{name: "plate/trimmed", in: " PBA1234 ", want: "PBA1234"},
		{name: "plate/lower case", in: "pb.1234", fail: i18n.ValidateRegex},
		{name: "plate/anchored at start", in: "XPBA1234", fail: i18n.ValidateRegex},
		{name: "plate/anchored at end", in: "PBA12345", fail: i18n.ValidateRegex},
		{name: "plate/longer than max_length", in: "PBA-12345", fail: i18n.ValidateLength, data: map[string]any{"Min": int64(1), "Max": int64(8)}},
		{name: "plate/empty", in: "", fail: i18n.ValidateRequired},
	})
	// Without the (?:…) group, ^a|b$ would accept "ab" and "ba".
	runChecks(t, mustCompile(t, "regex", map[string]any{"pattern": "a|b"}), []check{
		{name: "alternation/a", in: "a", want: "a"},
		{name: "alternation/b", in: "b", want: "b"},
		{name: "alternation/ab", in: "ab", fail: i18n.ValidateRegex},
		{name: "alternation/ba", in: "ba", fail: i18n.ValidateRegex},
	})
	runChecks(t, mustCompile(t, "regex", map[string]any{"pattern": `\p{L}+`}), []check{
		{name: "unicode/name with accent", in: "José", want: "José"},
		{name: "unicode/invalid UTF-8", in: "Jos\xe9", fail: i18n.ValidateRegex},
	})
}

// A regex input can fold the answer's case and drop separators before it
// is matched and saved: "pba 1234", "Pba-1234" and "PBA1234" are one plate.
func TestRegexNormalises(t *testing.T) {
	plate := mustCompile(t, "regex", map[string]any{"pattern": "[A-Z]{3}[0-9]{4}", "case": "upper", "strip": " -", "max_length": 7})
	runChecks(t, plate, []check{
		{name: "plate/lower case with space", in: "pba 1234", want: "PBA1234"},
		{name: "plate/mixed with dash", in: "Pba-1234", want: "PBA1234"},
		{name: "plate/as saved", in: "PBA1234", want: "PBA1234"},
		{name: "plate/max_length counts the normalised answer", in: "p-b-a-1-2-3-4", want: "PBA1234"},
		{name: "plate/still anchored", in: "pba12345", fail: i18n.ValidateLength, data: map[string]any{"Min": int64(1), "Max": int64(7)}},
		{name: "plate/only separators", in: " - ", fail: i18n.ValidateRequired},
		{name: "plate/other characters kept", in: "pb.1234", fail: i18n.ValidateRegex},
	})
	runChecks(t, mustCompile(t, "regex", map[string]any{"pattern": "[a-zñ]+", "case": "lower"}), []check{
		{name: "lower/Spanish letters", in: "ÑANDÚ", fail: i18n.ValidateRegex},
		{name: "lower/folded", in: "PEÑA", want: "peña"},
	})
}

func TestLength(t *testing.T) {
	twoToFive := map[string]any{"Min": int64(2), "Max": int64(5)}
	runChecks(t, mustCompile(t, "length", map[string]any{"min": 2, "max": 5}), []check{
		{name: "2 to 5/shortest", in: "ab", want: "ab"},
		{name: "2 to 5/counts characters not bytes", in: "ñandú", want: "ñandú"},
		{name: "2 to 5/trimmed before counting", in: "  abcde  ", want: "abcde"},
		{name: "2 to 5/too short", in: "a", fail: i18n.ValidateLength, data: twoToFive},
		{name: "2 to 5/too long", in: "abcdef", fail: i18n.ValidateLength, data: twoToFive},
		{name: "2 to 5/too long in characters", in: "ñandúe", fail: i18n.ValidateLength},
		{name: "2 to 5/empty", in: "", fail: i18n.ValidateRequired},
	})
	runChecks(t, mustCompile(t, "length", map[string]any{"max": 3}), []check{
		{name: "only max/one character", in: "x", want: "x"},
		{name: "only max/data Min is 1", in: "wxyz", fail: i18n.ValidateLength, data: map[string]any{"Min": int64(1), "Max": int64(3)}},
	})
}

func TestDigits(t *testing.T) {
	runChecks(t, mustCompile(t, "digits", nil), []check{
		{name: "any count/keeps leading zeros", in: "0012", want: "0012"},
		{name: "any count/trimmed", in: " 12 ", want: "12"},
		{name: "any count/letter", in: "12a", fail: i18n.ValidateRegex},
		{name: "any count/space inside", in: "1 2", fail: i18n.ValidateRegex},
		{name: "any count/sign", in: "-12", fail: i18n.ValidateRegex},
		{name: "any count/arabic-indic digits", in: "١٢", fail: i18n.ValidateRegex},
		{name: "any count/empty", in: "", fail: i18n.ValidateRequired},
	})
	fourToSix := map[string]any{"Min": int64(4), "Max": int64(6)}
	runChecks(t, mustCompile(t, "digits", map[string]any{"min": 4, "max": 6}), []check{
		{name: "4 to 6/four", in: "1234", want: "1234"},
		{name: "4 to 6/six", in: "123456", want: "123456"},
		{name: "4 to 6/three", in: "123", fail: i18n.ValidateLength, data: fourToSix},
		{name: "4 to 6/seven", in: "1234567", fail: i18n.ValidateLength, data: fourToSix},
	})
}

func BenchmarkRangeCheck(b *testing.B) {
	v := mustCompile(b, "range", map[string]any{"min": 1, "max": 500})
	for _, in := range []string{"3", "300", "x"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v.Check(in)
			}
		})
	}
}

func BenchmarkRegexCheck(b *testing.B) {
	v := mustCompile(b, "regex", map[string]any{"pattern": "[A-Z]{3}-?[0-9]{4}", "max_length": 8})
	b.ReportAllocs()
	for b.Loop() {
		v.Check("PBA-1234")
	}
}

func FuzzRange(f *testing.F) {
	for _, s := range []string{"3", " -12 ", "+0", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "1e3", "0x10", "-", ""} {
		f.Add(s)
	}
	v := mustCompile(f, "range", map[string]any{"min": -1000, "max": 1000})
	wide := mustCompile(f, "range", map[string]any{"min": math.MinInt64})
	f.Fuzz(func(t *testing.T, in string) {
		s := strings.TrimSpace(in)
		want, err := strconv.ParseInt(s, 10, 64) // base 10: plain digits and a sign
		got, fail := wide.Check(in)
		if (err == nil) != (fail == nil) || (err == nil && got != want) {
			t.Fatalf("Check(%q) = %v, %v; strconv says %v, %v", in, got, fail, want, err)
		}
		got, fail = v.Check(in)
		if fail == nil && (got.(int64) < -1000 || got.(int64) > 1000) {
			t.Fatalf("Check(%q) = %v, outside the bounds", in, got)
		}
	})
}
