package validate

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		spec Spec
		arg  string // CompileError.Arg
		msg  string // the whole error text
	}{
		{"kind/unknown with suggestion", Spec{Kind: "cedla"}, "kind",
			`unknown validator kind "cedla" (did you mean "cedula"?); known kinds: cedula, ruc, phone, date, range, regex, length, digits`},
		{"kind/missing", Spec{}, "kind", "missing validator kind; known kinds: cedula, ruc, phone, date, range, regex, length, digits"},
		{"kind/case matters", Spec{Kind: "Cedula"}, "kind", `unknown validator kind "Cedula" (did you mean "cedula"?); known kinds: cedula, ruc, phone, date, range, regex, length, digits`},

		{"args/unknown with suggestion", Spec{Kind: "range", Args: map[string]any{"mn": 1}}, "mn", `range: unknown argument "mn" (did you mean "min"?); known: min, max`},
		{"args/kind without arguments", Spec{Kind: "cedula", Args: map[string]any{"strict": true}}, "strict", `cedula: unknown argument "strict"; cedula takes no arguments`},
		{"args/reported in name order", Spec{Kind: "range", Args: map[string]any{"zz": 1, "aa": 1}}, "aa", `range: unknown argument "aa"; known: min, max`},

		{"range/min as a string", Spec{Kind: "range", Args: map[string]any{"min": "1"}}, "min", `range: min must be an integer, got the string "1"`},
		{"range/min a fraction", Spec{Kind: "range", Args: map[string]any{"min": 1.5}}, "min", "range: min must be an integer, got 1.5 (float64)"},
		{"range/min a boolean", Spec{Kind: "range", Args: map[string]any{"min": true}}, "min", "range: min must be an integer, got true (bool)"},
		{"range/min null", Spec{Kind: "range", Args: map[string]any{"min": nil}}, "min", "range: min must be an integer, got nothing"},
		{"range/max beyond int64", Spec{Kind: "range", Args: map[string]any{"max": uint64(math.MaxUint64)}}, "max", "range: max must be an integer, got 18446744073709551615 (uint64)"},
		{"range/max float beyond int64", Spec{Kind: "range", Args: map[string]any{"max": float64(math.MaxInt64)}}, "max", "range: max must be an integer, got 9.223372036854776e+18 (float64)"},
		{"range/no bounds", Spec{Kind: "range"}, "", "range: min or max is required"},
		{"range/min above max", Spec{Kind: "range", Args: map[string]any{"min": 5, "max": 1}}, "min", "range: min 5 is greater than max 1"},

		{"length/no bounds", Spec{Kind: "length", Args: map[string]any{}}, "", "length: min or max is required"},
		{"length/negative min", Spec{Kind: "length", Args: map[string]any{"min": -1}}, "min", "length: min must not be negative"},
		{"length/max 0", Spec{Kind: "length", Args: map[string]any{"max": 0}}, "max", "length: max must be at least 1"},
		{"digits/min above max", Spec{Kind: "digits", Args: map[string]any{"min": 6, "max": 4}}, "min", "digits: min 6 is greater than max 4"},

		{"regex/missing pattern", Spec{Kind: "regex"}, "pattern", "regex: pattern is required"},
		{"regex/empty pattern", Spec{Kind: "regex", Args: map[string]any{"pattern": ""}}, "pattern", "regex: pattern must not be empty"},
		{"regex/pattern not a string", Spec{Kind: "regex", Args: map[string]any{"pattern": 5}}, "pattern", "regex: pattern must be a string, got 5 (int)"},
		{"regex/bad pattern", Spec{Kind: "regex", Args: map[string]any{"pattern": "([A-Z]"}}, "pattern", "regex: pattern \"([A-Z]\" is not a valid regular expression: missing closing ): `^(?:([A-Z])$`"},
		{"regex/backreference", Spec{Kind: "regex", Args: map[string]any{"pattern": `(a)\1`}}, "pattern", "regex: pattern \"(a)\\\\1\" is not a valid regular expression: invalid escape sequence: `\\1`"},
		{"regex/unknown case", Spec{Kind: "regex", Args: map[string]any{"pattern": "a", "case": "title"}}, "case", `regex: case must be "upper" or "lower", got "title"`},
		{"regex/empty strip", Spec{Kind: "regex", Args: map[string]any{"pattern": "a", "strip": ""}}, "strip", "regex: strip must name the characters to remove, e.g. \" -\""},
		{"regex/max_length 0", Spec{Kind: "regex", Args: map[string]any{"pattern": "a", "max_length": 0}}, "max_length", "regex: max_length must be at least 1"},

		{"phone/mobile not a boolean", Spec{Kind: "phone", Args: map[string]any{"mobile": "yes"}}, "mobile", `phone: mobile must be true or false, got the string "yes"`},
		{"phone/unknown region", Spec{Kind: "phone", Args: map[string]any{"region": "XX"}}, "region", `phone: region "XX" is not a country code phone numbers know (e.g. EC, CO, PE)`},
		{"phone/region a number", Spec{Kind: "phone", Args: map[string]any{"region": 593}}, "region", "phone: region must be a string, got 593 (int)"},
		{"ruc/company_checksum not a boolean", Spec{Kind: "ruc", Args: map[string]any{"company_checksum": "no"}}, "company_checksum", `ruc: company_checksum must be true or false, got the string "no"`},

		{"date/unknown format", Spec{Kind: "date", Args: map[string]any{"format": "MM/DD/YYYY"}}, "format", `date: format "MM/DD/YYYY" is not one of DD/MM/YYYY, DD-MM-YYYY, YYYY-MM-DD, DDMMYYYY`},
		{"date/bad relative min", Spec{Kind: "date", Args: map[string]any{"min": "tomorrow"}}, "min", `date: min "tomorrow" is not a date: write "2026-01-31", "today", "today+30d" or "today-18y" (d, m or y)`},
		{"date/impossible max", Spec{Kind: "date", Args: map[string]any{"max": "2026-02-30"}}, "max", `date: max "2026-02-30" is not a date: write "2026-01-31", "today", "today+30d" or "today-18y" (d, m or y)`},
		{"date/min a number", Spec{Kind: "date", Args: map[string]any{"min": 2026}}, "min", `date: min must be a date ("2026-01-31", "today", "today+30d", "today-18y"), got 2026 (int)`},
		{"date/min after max", Spec{Kind: "date", Args: map[string]any{"min": "2026-12-31", "max": "2026-01-01"}}, "min", "date: min 2026-12-31 is after max 2026-01-01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := CompileWithClock(c.spec, fixedClock)
			if err == nil {
				t.Fatalf("Compile(%+v) = %#v, want an error", c.spec, v)
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is a %T, want *CompileError", err, err)
			}
			if ce.Arg != c.arg {
				t.Errorf("error names argument %q, want %q", ce.Arg, c.arg)
			}
			if err.Error() != c.msg {
				t.Errorf("error\n got: %s\nwant: %s", err, c.msg)
			}
		})
	}
}

// YAML and JSON decoders hand numbers over as any of these.
func TestIntegralArgumentForms(t *testing.T) {
	for _, c := range []struct {
		name     string
		min, max any
	}{
		{"int", 1, 5},
		{"int8", int8(1), int8(5)},
		{"int16", int16(1), int16(5)},
		{"int32", int32(1), int32(5)},
		{"int64", int64(1), int64(5)},
		{"uint", uint(1), uint(5)},
		{"uint8", uint8(1), uint8(5)},
		{"uint16", uint16(1), uint16(5)},
		{"uint32", uint32(1), uint32(5)},
		{"uint64", uint64(1), uint64(5)},
		{"float32", float32(1), float32(5)},
		{"float64", 1.0, 5.0},
		{"mixed", uint64(1), 5.0},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := mustCompile(t, "range", map[string]any{"min": c.min, "max": c.max})
			if got, f := v.Check("5"); f != nil || got != int64(5) {
				t.Fatalf("Check(5) = %v, %v", got, f)
			}
			if _, f := v.Check("6"); f == nil || f.Data["Max"] != int64(5) {
				t.Fatalf("Check(6) = %v, want a failure with Max int64(5)", f)
			}
		})
	}
}

func TestKindKeyInArgsIsIgnored(t *testing.T) {
	mustCompile(t, "range", map[string]any{"kind": "range", "min": 1})
}

func TestEveryKindRejectsEmptyInput(t *testing.T) {
	for _, k := range Kinds() {
		v := compileExample(t, k)
		for _, in := range []string{"", " ", "\t\n", "\u00a0"} {
			t.Run(k.Name+"/"+strconv.Quote(in), func(t *testing.T) {
				got, f := v.Check(in)
				if f == nil || f.MessageID != i18n.ValidateRequired {
					t.Fatalf("Check(%q) = %v, %v; want %s", in, got, f, i18n.ValidateRequired)
				}
			})
		}
	}
}

// compileExample decodes a kind's Example the way the loader sees it, with
// yaml.v3 into map[string]any, and compiles it.
func compileExample(t *testing.T, k KindSpec) Validator {
	t.Helper()
	var doc struct {
		Validate map[string]any `yaml:"validate"`
	}
	if err := yaml.Unmarshal([]byte(k.Example), &doc); err != nil {
		t.Fatalf("%s: example %q is not YAML: %v", k.Name, k.Example, err)
	}
	if doc.Validate["kind"] != k.Name {
		t.Fatalf("%s: example %q is of kind %v", k.Name, k.Example, doc.Validate["kind"])
	}
	v, err := CompileWithClock(Spec{Kind: k.Name, Args: doc.Validate}, fixedClock)
	if err != nil {
		t.Fatalf("%s: example %q does not compile: %v", k.Name, k.Example, err)
	}
	return v
}

func TestKinds(t *testing.T) {
	types := []string{TypeInt, TypeString, TypeBool, TypeDate}
	var names []string
	for _, k := range Kinds() {
		t.Run(k.Name, func(t *testing.T) {
			if slices.Contains(names, k.Name) {
				t.Fatalf("kind %s listed twice", k.Name)
			}
			names = append(names, k.Name)
			if k.Doc == "" || k.Example == "" {
				t.Fatal("every kind needs a Doc and an Example")
			}
			if !strings.HasPrefix(k.Example, "validate: ") {
				t.Errorf("example %q is not the validate: field", k.Example)
			}
			compileExample(t, k)
			var args []string
			for _, a := range k.Args {
				if a.Doc == "" || !slices.Contains(types, a.Type) || slices.Contains(args, a.Name) {
					t.Errorf("argument %+v: needs a Doc, a known Type and a unique name", a)
				}
				args = append(args, a.Name)
				if a.Default != nil {
					if a.Required {
						t.Errorf("argument %s is required and has a default", a.Name)
					}
					if _, err := convertArg(a.Type, a.Default); err != nil {
						t.Errorf("argument %s: default %v is not a %s", a.Name, a.Default, a.Type)
					}
				}
			}
		})
	}
	want := []string{"cedula", "ruc", "phone", "date", "range", "regex", "length", "digits"}
	if !slices.Equal(names, want) {
		t.Errorf("kinds %v, want %v", names, want)
	}
}

func TestKindsReturnsACopy(t *testing.T) {
	k := Kinds()
	k[0].Name = "changed"
	k[1].Args[0].Default = false
	if Kinds()[0].Name != "cedula" || Kinds()[1].Args[0].Default != true {
		t.Fatal("changing Kinds()' result changed the registry")
	}
}

// Args decoded from YAML: unquoted dates may arrive as time.Time.
func TestDateArgumentAsTimestamp(t *testing.T) {
	var doc struct {
		Validate map[string]any `yaml:"validate"`
	}
	if err := yaml.Unmarshal([]byte("validate: {kind: date, min: 2026-01-01}"), &doc); err != nil {
		t.Fatal(err)
	}
	mustCompile(t, "date", map[string]any{"min": doc.Validate["min"]})
	mustCompile(t, "date", map[string]any{"min": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
}

// The hop's hot path: wrong answers and small numbers must not allocate; a
// valid string answer costs the one allocation of boxing it in an any.
func TestCheckAllocations(t *testing.T) {
	for _, c := range []struct {
		name string
		kind string
		args map[string]any
		in   string
		want float64
	}{
		{"cedula/valid", "cedula", nil, "1714307103", 1},
		{"cedula/invalid", "cedula", nil, "1714307104", 0},
		{"ruc/valid", "ruc", nil, "1792060346001", 1},
		{"ruc/invalid", "ruc", nil, "1792060347001", 0},
		{"range/small number", "range", map[string]any{"min": 1, "max": 9}, "3", 0},
		{"range/out of range", "range", map[string]any{"min": 1, "max": 9}, "30", 0},
		{"range/not a number", "range", map[string]any{"min": 1, "max": 9}, "x", 0},
		{"date/not a date", "date", nil, "31/02/2026", 0},
		{"regex/no match", "regex", map[string]any{"pattern": "[0-9]+"}, "abc", 0},
		{"length/valid", "length", map[string]any{"max": 9}, "hola", 1},
		{"digits/invalid", "digits", nil, "12a", 0},
		{"required", "cedula", nil, "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := mustCompile(t, c.kind, c.args)
			if got := testing.AllocsPerRun(100, func() { v.Check(c.in) }); got > c.want {
				t.Fatalf("Check(%q) allocates %v times, want at most %v", c.in, got, c.want)
			}
		})
	}
}
