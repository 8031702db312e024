package tmpl_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/internal/tmpl"
)

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		format tmpl.Format
		value  any
		es, en string // qu is written as es
	}{
		{tmpl.Money, 225.0, "USD 225,00", "USD 225.00"},
		{tmpl.Money, 22.5, "USD 22,50", "USD 22.50"},
		{tmpl.Money, 1234567.891, "USD 1.234.567,89", "USD 1,234,567.89"},
		{tmpl.Money, int64(5), "USD 5,00", "USD 5.00"},
		{tmpl.Money, 3, "USD 3,00", "USD 3.00"},
		{tmpl.Money, json.Number("1234.5"), "USD 1.234,50", "USD 1,234.50"},
		{tmpl.Money, "1234.5", "USD 1.234,50", "USD 1,234.50"},
		{tmpl.Money, " 80 ", "USD 80,00", "USD 80.00"},
		{tmpl.Money, "-12.3", "USD -12,30", "USD -12.30"},
		{tmpl.Number, 225.0, "225", "225"},
		{tmpl.Number, 22.5, "22,5", "22.5"},
		{tmpl.Number, 1234567.0, "1.234.567", "1,234,567"},
		{tmpl.Number, "0.125", "0,125", "0.125"},
		{tmpl.Number, int64(-4200), "-4.200", "-4,200"},
		{tmpl.Date, "2027-03-12", "12 mar 2027", "12 Mar 2027"},
		{tmpl.Date, "2027-09-01", "1 sept 2027", "1 Sep 2027"},
		{tmpl.Date, "2027-03-12T09:30:00-05:00", "12 mar 2027", "12 Mar 2027"},
		{tmpl.Date, "2024-02-29", "29 feb 2024", "29 Feb 2024"},
		{tmpl.Time, "09:30", "09:30", "09:30"},
		{tmpl.Time, "9:05", "09:05", "09:05"},
		{tmpl.Time, "21:45:10", "21:45", "21:45"},
		{tmpl.Time, "2027-03-12T18:00:00Z", "18:00", "18:00"},
		{tmpl.Time, "2027-03-12 07:15", "07:15", "07:15"},
	} {
		for _, loc := range []string{"es", "qu", "en"} {
			want := tc.es
			if loc == "en" {
				want = tc.en
			}
			var b strings.Builder
			if ok := tc.format.Write(&b, loc, tc.value); !ok || b.String() != want {
				t.Errorf("%s of %#v in %s = %q, %v; want %q", tc.format, tc.value, loc, b.String(), ok, want)
			}
		}
	}
}

// A value a format cannot read writes nothing: the caller shows it as it
// is.
func TestFormatsRefuse(t *testing.T) {
	for _, tc := range []struct {
		format tmpl.Format
		value  any
	}{
		{tmpl.Money, "225,00"}, {tmpl.Money, "1,234.50"}, {tmpl.Money, "USD 5"}, {tmpl.Money, "1e6"},
		{tmpl.Money, ""}, {tmpl.Money, "-"}, {tmpl.Money, "5."}, {tmpl.Money, ".5"}, {tmpl.Money, "1.2.3"},
		{tmpl.Money, nil}, {tmpl.Money, true}, {tmpl.Money, []any{1.0}}, {tmpl.Number, "123456789012345678"},
		{tmpl.Date, "12/03/2027"}, {tmpl.Date, "2027-02-30"}, {tmpl.Date, "2027-13-01"}, {tmpl.Date, "2027-03-12x"},
		{tmpl.Date, 20270312.0}, {tmpl.Date, nil},
		{tmpl.Time, "24:00"}, {tmpl.Time, "9.30"}, {tmpl.Time, "09:3"}, {tmpl.Time, "09:30pm"}, {tmpl.Time, "2027-03-12"},
		{tmpl.Time, 930.0},
	} {
		var b strings.Builder
		if tc.format.Write(&b, "es", tc.value) || b.Len() > 0 {
			t.Errorf("%s of %#v: wrote %q, want a refusal", tc.format, tc.value, b.String())
		}
	}
}

func TestParseFormats(t *testing.T) {
	tp, err := tmpl.Parse("Pague {{ multa.valor | money }} antes del {{vence|date}}.", tmpl.Options{Dotted: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := tp.Holes()
	if len(hs) != 2 || hs[0].Name != "multa.valor" || hs[0].Format != tmpl.Money || hs[1].Name != "vence" || hs[1].Format != tmpl.Date {
		t.Fatalf("holes: %+v %+v", hs[0], hs[1])
	}
	if names := strings.Join(tp.Names(), ","); names != "multa.valor,vence" {
		t.Errorf("Names = %s", names)
	}
	got, err := tp.Render("es", map[string]string{"multa.valor": "225", "vence": "2027-03-12"})
	if want := "Pague USD 225,00 antes del 12 mar 2027."; err != nil || got != want {
		t.Errorf("Render = %q, %v; want %q", got, err, want)
	}
	got, _ = tp.Render("en", map[string]string{"multa.valor": "a lot", "vence": "soon"})
	if want := "Pague a lot antes del soon."; got != want {
		t.Errorf("Render of values the formats cannot read = %q; want %q", got, want)
	}
	for _, tc := range []struct{ src, msg string }{
		{"{{x | mony}}", `{{x | mony}}: "mony" is not a format (did you mean "money"?); formats: number, money, date, time`},
		{"{{x | upper}}", `{{x | upper}}: "upper" is not a format; formats: number, money, date, time`},
		{"{{x | }}", `{{x |}}: "" is not a format; formats: number, money, date, time`},
	} {
		_, err := tmpl.Parse(tc.src, tmpl.Options{})
		var te *tmpl.Error
		if !errors.As(err, &te) || te.Kind != tmpl.BadFormat || te.Msg != tc.msg {
			t.Errorf("Parse(%q) = %v; want %s", tc.src, err, tc.msg)
		}
	}
	for _, src := range []string{"{{x | money | date}}", "{{ | money}}", "{{x | money date}}"} {
		if _, err := tmpl.Parse(src, tmpl.Options{}); err == nil {
			t.Errorf("Parse(%q) accepted it", src)
		}
	}
}

// Widest bounds what a format writes for the values it is meant for.
func TestWidest(t *testing.T) {
	for _, loc := range []string{"es", "en", "qu"} {
		for _, tc := range []struct {
			format tmpl.Format
			values []any
			want   int
		}{
			{tmpl.Money, []any{-9999999.99, 1234567.89, 0.0}, 17},
			{tmpl.Number, []any{-9999999.999, 12.5}, 14},
			{tmpl.Date, []any{"2027-09-30", "2027-12-31"}, 0},
			{tmpl.Time, []any{"23:59", "09:30"}, 5},
		} {
			w := tc.format.Widest(loc, 0)
			if tc.want > 0 && w != tc.want {
				t.Errorf("%s in %s: widest %d, want %d", tc.format, loc, w, tc.want)
			}
			for _, v := range tc.values {
				var b strings.Builder
				tc.format.Write(&b, loc, v)
				if n := utf8.RuneCountInString(b.String()); n > w {
					t.Errorf("%s of %v in %s is %q, wider than %d", tc.format, v, loc, b.String(), w)
				}
			}
		}
	}
}

// A variable's declared length bounds the value before its format: eight
// characters of amount are at most USD 99.999.999,00.
func TestWidestOfADeclaredLength(t *testing.T) {
	for _, tc := range []struct {
		format tmpl.Format
		loc    string
		n      int
		want   string
	}{
		{tmpl.Money, "es", 8, "USD 99.999.999,00"},
		{tmpl.Money, "en", 3, "USD 999.00"},
		{tmpl.Number, "es", 7, "9.999.999"},
		{tmpl.Date, "es", 10, "30 sept 2027"},
		{tmpl.Date, "en", 25, strings.Repeat("x", 25)},
		{tmpl.Time, "es", 5, "23:59"},
		{tmpl.Plain, "es", 9, "123456789"},
	} {
		if got := tc.format.Widest(tc.loc, tc.n); got != utf8.RuneCountInString(tc.want) {
			t.Errorf("%s of %d characters in %s: %d, want %d (%s)", tc.format, tc.n, tc.loc, got, len(tc.want), tc.want)
		}
	}
}
