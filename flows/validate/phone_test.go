package validate

import (
	"testing"

	"github.com/ventanilla-gob/ventanilla/i18n"
)

func TestPhone(t *testing.T) {
	runChecks(t, mustCompile(t, "phone", nil), []check{
		{name: "EC/mobile national", in: "0991234567", want: "+593991234567"},
		{name: "EC/mobile international", in: "+593991234567", want: "+593991234567"},
		{name: "EC/mobile with spaces", in: "099 123 4567", want: "+593991234567"},
		{name: "EC/mobile with dashes", in: "099-123-4567", want: "+593991234567"},
		{name: "EC/mobile without trunk zero", in: "991234567", want: "+593991234567"},
		{name: "EC/mobile with 00 prefix", in: "00593991234567", want: "+593991234567"},
		{name: "EC/Quito landline", in: "022345678", want: "+59322345678"},
		{name: "EC/foreign number in international form", in: "+573001234567", want: "+573001234567"},
		{name: "EC/too short", in: "09912345", fail: i18n.ValidatePhone},
		{name: "EC/too long", in: "09912345678", fail: i18n.ValidatePhone},
		{name: "EC/letters", in: "telefono", fail: i18n.ValidatePhone},
		{name: "EC/huge input", in: "0991234567 0991234567 0991234567 0991234567", fail: i18n.ValidatePhone},
		{name: "EC/empty", in: "", fail: i18n.ValidateRequired},
	})
	runChecks(t, mustCompile(t, "phone", map[string]any{"mobile": true}), []check{
		{name: "EC mobile only/mobile", in: "0991234567", want: "+593991234567"},
		{name: "EC mobile only/landline", in: "022345678", fail: i18n.ValidatePhone},
	})
	runChecks(t, mustCompile(t, "phone", map[string]any{"region": "co"}), []check{
		{name: "CO/mobile national", in: "3001234567", want: "+573001234567"},
		{name: "CO/Ecuadorian needs +593", in: "0991234567", fail: i18n.ValidatePhone},
	})
}

func BenchmarkPhoneCheck(b *testing.B) {
	v := mustCompile(b, "phone", map[string]any{"mobile": true})
	b.ReportAllocs()
	for b.Loop() {
		v.Check("0991234567")
	}
}
