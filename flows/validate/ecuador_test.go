package validate

import (
	"strconv"
	"testing"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

// Check digits in the comments below: cédula weights 2,1,2,1,2,1,2,1,2 on
// digits 1–9, products above 9 minus 9, check = (10 − sum mod 10) mod 10.
// Apart from 1714307103 (the reference's example) the cédulas are made up.

func TestCedula(t *testing.T) {
	v := mustCompile(t, "cedula", nil)
	runChecks(t, v, []check{
		// 1 7 1 4 3 0 7 1 0 → 2+7+2+4+6+0+5+1+0 = 27 → 3
		{name: "valid/reference example", in: "1714307103", want: "1714307103"},
		{name: "valid/with dash before check digit", in: "171430710-3", want: "1714307103"},
		{name: "valid/with spaces", in: "17 1430 7103", want: "1714307103"},
		{name: "valid/surrounding spaces", in: "  1714307103 ", want: "1714307103"},
		// 0 9 2 3 4 5 6 7 8 → 0+9+4+3+8+5+3+7+7 = 46 → 4
		{name: "valid/Guayas", in: "0923456784", want: "0923456784"},
		// 2 4 0 0 0 0 0 0 1 → 4+4+0+0+0+0+0+0+2 = 10 → 0
		{name: "valid/province 24 is the last", in: "2400000010", want: "2400000010"},
		// 3 0 0 1 2 3 4 5 6 → 6+0+0+1+4+3+8+5+3 = 30 → 0
		{name: "valid/province 30 abroad", in: "3001234560", want: "3001234560"},
		// 5 0 0 1 2 3 4 5 6 → 1+0+0+1+4+3+8+5+3 = 25 → 5
		{name: "valid/province 50 foreigners", in: "5001234565", want: "5001234565"},
		// 1 7 6 5 4 3 2 1 0 → 2+7+3+5+8+3+4+1+0 = 33 → 7
		{name: "valid/third digit 6", in: "1765432107", want: "1765432107"},
		// 0 1 1 1 1 1 1 1 1 → 0+1+2+1+2+1+2+1+2 = 12 → 8
		{name: "valid/leading zero kept", in: "0111111118", want: "0111111118"},

		{name: "invalid/wrong check digit", in: "1714307104", fail: i18n.ValidateCedula},
		{name: "invalid/swapped digits", in: "1741307103", fail: i18n.ValidateCedula},
		// 2 5 0 0 0 0 0 0 0 → 4+5 = 9 → 1: checksum right, province wrong
		{name: "invalid/province 25", in: "2500000001", fail: i18n.ValidateCedula},
		// 0 0 1 2 3 4 5 6 7 → 0+0+2+2+6+4+1+6+5 = 26 → 4
		{name: "invalid/province 00", in: "0012345674", fail: i18n.ValidateCedula},
		// 1 7 7 0 0 0 0 0 1 → 2+7+5+0+0+0+0+0+2 = 16 → 4
		{name: "invalid/third digit 7", in: "1770000014", fail: i18n.ValidateCedula},
		{name: "invalid/too short", in: "171430710", fail: i18n.ValidateCedula},
		{name: "invalid/too long", in: "17143071030", fail: i18n.ValidateCedula},
		{name: "invalid/a RUC is not a cédula", in: "1714307103001", fail: i18n.ValidateCedula},
		{name: "invalid/letter O for zero", in: "17143O7103", fail: i18n.ValidateCedula},
		{name: "invalid/letters", in: "abcdefghij", fail: i18n.ValidateCedula},
		{name: "invalid/dots", in: "1714.307.103", fail: i18n.ValidateCedula},
		{name: "invalid/plus sign", in: "+1714307103", fail: i18n.ValidateCedula},
		{name: "invalid/only dashes", in: "----", fail: i18n.ValidateCedula},
		{name: "invalid/arabic-indic digits", in: "١٧١٤٣٠٧١٠٣", fail: i18n.ValidateCedula},

		{name: "empty/nothing", in: "", fail: i18n.ValidateRequired},
		{name: "empty/spaces", in: "   ", fail: i18n.ValidateRequired},
	})
}

// RUC check digits: public entities weight digits 1–8 by 3,2,7,6,5,4,3,2 and
// put (11 − sum mod 11) mod 11 in digit 9; companies weight digits 1–9 by
// 4,3,2,7,6,5,4,3,2 and put it in digit 10. Public and company numbers
// marked "real" are institutions' and companies' RUCs from python-stdnum's
// tests and issue tracker.

func TestRUC(t *testing.T) {
	v := mustCompile(t, "ruc", nil)
	runChecks(t, v, []check{
		// natural persons (third digit 0–5): cédula + establishment
		{name: "natural/valid", in: "1714307103001", want: "1714307103001"},
		{name: "natural/valid with dash", in: "1714307103-001", want: "1714307103001"},
		{name: "natural/valid with spaces", in: "1714307103 001", want: "1714307103001"},
		{name: "natural/second establishment", in: "0923456784002", want: "0923456784002"},
		{name: "natural/establishment 000", in: "1714307103000", fail: i18n.ValidateRUC},
		{name: "natural/wrong cédula check digit", in: "1714307104001", fail: i18n.ValidateRUC},

		// public entities (third digit 6)
		// 1 7 6 0 0 0 1 5 → 3+14+42+0+0+0+3+10 = 72, 72 mod 11 = 6 → 5
		{name: "public/valid real", in: "1760001550001", want: "1760001550001"},
		// 0 2 6 0 0 0 0 1 → 0+4+42+0+0+0+0+2 = 48, 48 mod 11 = 4 → 7; not a cédula
		{name: "public/valid", in: "0260000170001", want: "0260000170001"},
		{name: "public/valid real Guayas", in: "0968529830001", want: "0968529830001"},
		{name: "public/wrong check digit", in: "1760001560001", fail: i18n.ValidateRUC},
		{name: "public/establishment 0000", in: "0260000170000", fail: i18n.ValidateRUC},
		// 1765432107 is a cédula with third digit 6: its RUC fails the public
		// rule (sum mod 11 ≠ 0) and passes as a person's
		{name: "public/person with third digit 6", in: "1765432107001", want: "1765432107001"},

		// companies (third digit 9)
		// 1 7 9 2 0 6 0 3 4 → 4+21+18+14+0+30+0+9+8 = 104, 104 mod 11 = 5 → 6
		{name: "company/valid real", in: "1792060346001", want: "1792060346001"},
		{name: "company/valid real with dash", in: "1792060346-001", want: "1792060346001"},
		// 0 9 9 0 1 3 8 8 5 → 0+27+18+0+6+15+32+24+10 = 132 ≡ 0 → 0
		{name: "company/valid real check digit 0", in: "0990138850001", want: "0990138850001"},
		// fails the company rule but has a public entity's check digit in
		// position 9: 3+14+63+18+10+8+3+4 = 123, 123 mod 11 = 2 → 9
		{name: "company/valid real with public check digit", in: "1793221293001", want: "1793221293001"},
		{name: "company/wrong check digit", in: "1792060347001", fail: i18n.ValidateRUC},
		{name: "company/establishment 000", in: "1792060346000", fail: i18n.ValidateRUC},
		{name: "company/real but no computable check digit", in: "1793213150001", fail: i18n.ValidateRUC},

		{name: "third digit/7", in: "1770000014001", fail: i18n.ValidateRUC},
		{name: "third digit/8", in: "1780000610001", fail: i18n.ValidateRUC},
		{name: "province/25", in: "2592060346001", fail: i18n.ValidateRUC},
		{name: "province/88", in: "8892397539001", fail: i18n.ValidateRUC},
		{name: "length/12 digits", in: "179206034601", fail: i18n.ValidateRUC},
		{name: "length/14 digits", in: "17920603460011", fail: i18n.ValidateRUC},
		{name: "length/a cédula is not a RUC", in: "1714307103", fail: i18n.ValidateRUC},
		{name: "letters/one letter", in: "17920603A6001", fail: i18n.ValidateRUC},
		{name: "empty", in: " ", fail: i18n.ValidateRequired},
	})
}

func TestRUCWithoutCompanyChecksum(t *testing.T) {
	v := mustCompile(t, "ruc", map[string]any{"company_checksum": false})
	runChecks(t, v, []check{
		// active companies per the SRI (python-stdnum issues 290 and 497)
		{name: "company/real with no computable check digit", in: "1793213150001", want: "1793213150001"},
		{name: "company/real PONTEDORA", in: "0993370026001", want: "0993370026001"},
		{name: "company/still needs establishment", in: "1793213150000", fail: i18n.ValidateRUC},
		{name: "public/check digit not checked", in: "1760001560001", want: "1760001560001"},
		{name: "natural/still checked", in: "1714307104001", fail: i18n.ValidateRUC},
		{name: "province/still checked", in: "2592060346001", fail: i18n.ValidateRUC},
		{name: "third digit/7 still rejected", in: "1770000014001", fail: i18n.ValidateRUC},
	})
}

// cedulaOracle is the cédula rule written again, plainly, from the
// reference text, to cross-check the fast one in the fuzz targets.
func cedulaOracle(s string) bool {
	if len(s) != 10 {
		return false
	}
	digits := make([]int, 10)
	for i, r := range s {
		n, err := strconv.Atoi(string(r))
		if err != nil || r < '0' || r > '9' {
			return false
		}
		digits[i] = n
	}
	province := digits[0]*10 + digits[1]
	if !(province >= 1 && province <= 24) && province != 30 && province != 50 {
		return false
	}
	if digits[2] > 6 {
		return false
	}
	sum := 0
	for i, w := range []int{2, 1, 2, 1, 2, 1, 2, 1, 2} {
		p := digits[i] * w
		if p > 9 {
			p -= 9
		}
		sum += p
	}
	return (10-sum%10)%10 == digits[9]
}

func rucOracle(s string, strict bool) bool {
	if len(s) != 13 || !cedulaShape(s) {
		return false
	}
	weighted := func(w []int) bool {
		sum := 0
		for i, wi := range w {
			sum += wi * int(s[i]-'0')
		}
		return sum%11 == 0
	}
	natural := s[10:] != "000" && cedulaOracle(s[:10])
	public := s[9:] != "0000" && (!strict || weighted([]int{3, 2, 7, 6, 5, 4, 3, 2, 1}))
	juridical := s[10:] != "000" && (!strict || weighted([]int{4, 3, 2, 7, 6, 5, 4, 3, 2, 1}))
	province, _ := strconv.Atoi(s[:2])
	if !(province >= 1 && province <= 24) && province != 30 && province != 50 {
		return false
	}
	switch s[2] {
	case '0', '1', '2', '3', '4', '5':
		return natural
	case '6':
		return public || natural
	case '9':
		return juridical || public
	}
	return false
}

func cedulaShape(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func FuzzCedula(f *testing.F) {
	for _, s := range []string{"1714307103", "171430710-3", "2500000001", "", "-", "17143071031714307103", "\xff", "١٧١٤٣٠٧١٠٣"} {
		f.Add(s)
	}
	v := mustCompile(f, "cedula", nil)
	f.Fuzz(func(t *testing.T, in string) {
		got, fail := v.Check(in)
		if fail != nil {
			if got != nil {
				t.Fatalf("Check(%q) failed but returned %#v", in, got)
			}
			return
		}
		s, ok := got.(string)
		if !ok || len(s) != 10 || !cedulaShape(s) {
			t.Fatalf("Check(%q) = %#v, want 10 digits", in, got)
		}
		if !cedulaOracle(s) {
			t.Fatalf("Check(%q) accepted %q, which the plain rule rejects", in, s)
		}
		if len(in) == 10 && cedulaShape(in) && cedulaOracle(in) != (fail == nil) {
			t.Fatalf("Check(%q) disagrees with the plain rule", in)
		}
	})
}

func FuzzRUC(f *testing.F) {
	for _, s := range []string{"1714307103001", "1792060346-001", "1760001550001", "1793221293001", "1770000014001", "", "0000000000000", "\x00"} {
		f.Add(s, true)
	}
	strict := mustCompile(f, "ruc", nil)
	lenient := mustCompile(f, "ruc", map[string]any{"company_checksum": false})
	f.Fuzz(func(t *testing.T, in string, checksum bool) {
		v := strict
		if !checksum {
			v = lenient
		}
		got, fail := v.Check(in)
		if fail == nil {
			s, ok := got.(string)
			if !ok || len(s) != 13 || !cedulaShape(s) {
				t.Fatalf("Check(%q) = %#v, want 13 digits", in, got)
			}
			if !rucOracle(s, checksum) {
				t.Fatalf("Check(%q) accepted %q, which the plain rule rejects", in, s)
			}
		}
		if len(in) == 13 && cedulaShape(in) && rucOracle(in, checksum) != (fail == nil) {
			t.Fatalf("Check(%q) with company_checksum %v disagrees with the plain rule", in, checksum)
		}
	})
}

func BenchmarkCedulaCheck(b *testing.B) {
	v := mustCompile(b, "cedula", nil)
	for _, in := range []string{"1714307103", "171430710-3", "1714307104"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v.Check(in)
			}
		})
	}
}

func BenchmarkRUCCheck(b *testing.B) {
	v := mustCompile(b, "ruc", nil)
	b.ReportAllocs()
	for b.Loop() {
		v.Check("1792060346001")
	}
}
