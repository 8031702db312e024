package telegram

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

func TestE164(t *testing.T) {
	for _, tc := range []struct {
		raw, want string
	}{
		{"593991234567", "+593991234567"},  // how Telegram sends it
		{"+593991234567", "+593991234567"}, // as some clients send it
		{"0991234567", "+593991234567"},    // national, read in EC
		{"14155550123", "+14155550123"},
		{" 593991234567 ", "+593991234567"},
		{"", ""},
		{"+", ""},
		{"12", ""},
		{"59399123456X", ""},
		{"+593 99 123 4567", ""},
		{"123456789012345678901", ""},
	} {
		got, ok := e164(tc.raw, "EC")
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("e164(%q) = %q, %v; want %q", tc.raw, got, ok, tc.want)
		}
	}
}

func TestLocale(t *testing.T) {
	for tag, want := range map[string]string{"en": "en", "en-US": "en", "EN": "en", "es-EC": "es", "qu": "qu", "pt-br": "es", "": "es", "quz-EC": "qu", "qug": "qu"} {
		if got := adapterLocale(tag); got != want {
			t.Errorf("adapterLocale(%q) = %q, want %q", tag, got, want)
		}
	}
}

func TestRecordData(t *testing.T) {
	r := record{Keys: [][2]string{{"Español", "1"}, {"English", "2"}, {"Español", "9"}}}
	for typed, want := range map[string]string{"Español": "1", " English\n": "2", "english": "english", "3": "3"} {
		if got := r.data(typed); got != want {
			t.Errorf("data(%q) = %q, want %q", typed, got, want)
		}
	}
}

// FuzzDecode feeds webhook bodies to the decoder and the update reader:
// they must never panic, and what they let through must be well formed.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatal("no seeds in testdata")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"update_id":1,"message":{"chat":{"id":1,"type":"private"},"from":{"id":1},"text":"/start@","entities":[{"type":"bot_command","offset":0,"length":99}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := decode(body)
		if err != nil {
			return
		}
		if u.UpdateID <= 0 {
			t.Fatalf("update_id %d accepted", u.UpdateID)
		}
		ev, ok := parse(u)
		if !ok {
			return
		}
		if ev.chat == 0 && ev.callback == "" {
			t.Fatal("an event with neither chat nor callback")
		}
		if utf8.ValidString(string(body)) && !utf8.ValidString(ev.input) {
			t.Fatalf("input %q is not UTF-8", ev.input)
		}
		_ = inlineKeyboard([][]carrier.Button{{{Label: ev.input, Data: ev.input}}})
	})
}

func TestCommandFromFuzz(t *testing.T) {
	for _, text := range []string{"/", "//", "/@", "/@bot", "/ ", "/start@"} {
		if in, _ := command(text); in != text {
			t.Errorf("command(%q) = %q; not a command, it should stay as typed", text, in)
		}
	}
}

func BenchmarkDecodeParse(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "callback.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		u, err := decode(body)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := parse(u); !ok {
			b.Fatal("ignored")
		}
	}
}

func BenchmarkInlineKeyboard(b *testing.B) {
	rows := [][]carrier.Button{
		{{Label: "Cédula y documentos", Data: "1"}}, {{Label: "Turnos médicos", Data: "2"}},
		{{Label: "Impuestos y tasas", Data: "3"}}, {{Label: "Bono de desarrollo", Data: "4"}},
		{{Label: "Atrás", Data: "0"}, {Label: "Más", Data: "98"}},
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = inlineKeyboard(rows)
	}
}
