package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// withoutOwnError drops the question's own error text from the scaffold's
// flow, so that the validator's system message speaks.
func withoutOwnError(t *testing.T, pkg, id string) {
	t.Helper()
	editFile(t, filepath.Join(pkg, "flows", id+"-consulta.yaml"), func(f string) string {
		i := strings.Index(f, "    error:\n")
		j := strings.Index(f, "    retries: 3\n")
		if i < 0 || j < i {
			t.Fatalf("the scaffold's flow changed:\n%s", f)
		}
		return f[:i] + f[j:]
	})
}

// withoutMessages removes the scaffold's messages file: the package says
// the catalogue's system messages.
func withoutMessages(t *testing.T, pkg string) {
	t.Helper()
	if err := os.Remove(filepath.Join(pkg, "messages.yaml")); err != nil {
		t.Fatal(err)
	}
}

const transitoMessages = `# The system messages transito says in its own words.
messages:
  validate.length:
    es: "Tránsito: de {{Min}} a {{Max}} dígitos."
    en: "Traffic: {{Min}} to {{Max}} digits."
    qu: "Tránsito: {{Min}} manta {{Max}} kama."
  nav.back: {es: Volver, en: Return, qu: Kutiy}
  call.error: {es: "Tránsito no pudo atenderle."}
  resume.prompt: {es: "Tránsito: dejó pendiente {{Flow}}."}
  resume.continue: {es: Seguir}
  end.goodbye: {es: "Gracias por usar los servicios de Tránsito."}
`

// An institution's overrides are what its flows say, on USSD, by SMS and
// on WhatsApp, in every language; the same screens in another
// institution's flow, and in the catalogue's, say the catalogue's texts.
func TestOverridesSpeakInTheirInstitutionsFlowsOnly(t *testing.T) {
	dir := t.TempDir()
	transito := newPackage(t, dir, "transito", published)
	municipio := newPackage(t, dir, "municipio", published)
	withoutOwnError(t, transito, "transito")
	withoutOwnError(t, municipio, "municipio")
	withoutMessages(t, municipio)
	writeText(t, filepath.Join(transito, "messages.yaml"), transitoMessages)
	_, a := packagesApp(t, dir, "")

	type words struct{ tooShort, back string }
	own := map[string]words{
		"1": {"Tránsito: de 3 a 10 dígitos.", "0. Volver"},
		"2": {"Traffic: 3 to 10 digits.", "0. Return"},
		"3": {"Tránsito: 3 manta 10 kama.", "0. Kutiy"},
	}
	catalogue := map[string]words{
		"1": {"Escriba entre 3 y 10 caracteres.", "0. Atrás"},
		"2": {"Enter 3 to 10 characters.", "0. Back"},
		"3": {"3-manta 10-kama killkakunata killkapay.", "0. Washaman"},
	}
	n := 0
	for _, channel := range []string{"ussd", "sms", "whatsapp"} {
		for _, lang := range []string{"1", "2", "3"} {
			for _, tc := range []struct {
				entry string
				want  words
				other words
			}{
				{"5", own[lang], catalogue[lang]}, // transito
				{"4", catalogue[lang], own[lang]}, // municipio
			} {
				n++
				h := channelsFor(t, a, "+5939920"+strings.Repeat("0", 4-len(itoa(n)))+itoa(n), "")[channel]
				h.send("")
				h.send(lang)
				h.send(tc.entry)
				got := h.send("12")
				if !strings.Contains(got, tc.want.tooShort) || strings.Contains(got, tc.other.tooShort) {
					t.Errorf("%s, language %s, entry %s: %q, want %q", channel, lang, tc.entry, got, tc.want.tooShort)
				}
				if channel != "sms" && (!strings.Contains(got, tc.want.back) || tc.want.back != tc.other.back && strings.Contains(got, tc.other.back)) {
					t.Errorf("%s, language %s, entry %s: %q, want %q", channel, lang, tc.entry, got, tc.want.back)
				}
			}
		}
	}
	// The national menu and the catalogue's flows keep the catalogue's.
	h := channelsFor(t, a, "+593992009999", "")["ussd"]
	h.send("")
	h.send("1")
	if got := h.send("1"); !strings.Contains(got, "0. Atrás") || strings.Contains(got, "Volver") {
		t.Errorf("the catalogue's turnos: %q", got)
	}
}

// A back-end's failure in an institution's flow is told in its words, and
// so is the goodbye of SALIR said in it; the same in another institution's
// flow, in the catalogue's.
func TestOverriddenCallOutcome(t *testing.T) {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	dir := t.TempDir()
	transito := newPackage(t, dir, "transito", published)
	municipio := newPackage(t, dir, "municipio", published)
	writeText(t, filepath.Join(transito, "messages.yaml"), transitoMessages)
	withoutMessages(t, municipio)
	for _, pkg := range []string{transito, municipio} {
		editFile(t, filepath.Join(pkg, "services.yaml"), func(s string) string {
			return regexp.MustCompile(`\$\{[A-Z]+_API_URL\}`).ReplaceAllString(s, broken.URL)
		})
	}
	_, a := packagesApp(t, dir, "")
	for _, tc := range []struct{ keyword, want, not string }{
		{"TRANSITO", "Tránsito no pudo atenderle.", "Ocurrió un error"},
		{"MUNICIPIO", "Ocurrió un error en la institución.", "Tránsito"},
	} {
		sms := channelsFor(t, a, "+593992001001", "")["sms"]
		sms.send(tc.keyword)
		if got := sms.send("1002"); !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) {
			t.Errorf("%s: %q, want %q", tc.keyword, got, tc.want)
		}
	}
	// SALIR in the middle of a flow says goodbye in its words.
	for _, tc := range []struct{ keyword, want string }{
		{"TRANSITO", "Gracias por usar los servicios de Tránsito."},
		{"MUNICIPIO", "Gracias por usar Ventanilla."},
	} {
		sms := channelsFor(t, a, "+593992001002", "")["sms"]
		expect(t, sms.send(tc.keyword), "Escriba el número de su solicitud")
		if got := sms.send("SALIR"); got != tc.want {
			t.Errorf("%s, then SALIR: %q, want %q", tc.keyword, got, tc.want)
		}
	}
}

// A citizen whose USSD session dropped in an institution's flow is offered
// to resume it in that institution's words; in another's, in the
// catalogue's.
func TestResumeOfferInTheInstitutionsWords(t *testing.T) {
	dir := t.TempDir()
	transito := newPackage(t, dir, "transito", published)
	municipio := newPackage(t, dir, "municipio", published)
	writeText(t, filepath.Join(transito, "messages.yaml"), transitoMessages)
	withoutMessages(t, municipio)
	_, a := packagesApp(t, dir, "")
	for _, tc := range []struct{ entry, want string }{
		{"5", "Tránsito: dejó pendiente Consulta transito.\n1. Seguir\n2. Empezar de nuevo"},
		{"4", "Tiene un trámite sin terminar: Consulta municipio.\n1. Continuar\n2. Empezar de nuevo"},
	} {
		h := channelsFor(t, a, "+59399300100"+tc.entry, "")["ussd"]
		h.send("")
		h.send("1")
		expect(t, h.send(tc.entry), "Escriba el número de su solicitud")
		h.in.SessionID += "-again" // the network dropped; the citizen dials again
		if got := h.send(""); !strings.HasPrefix(got, tc.want) {
			t.Errorf("entry %s: %q, want %q", tc.entry, got, tc.want)
		}
	}
}

// A per-package reload takes the package's new overrides, all or
// nothing: a broken messages file is refused with its problem and the
// texts running stay; a conversation started before goes on.
func TestPackageReloadSwapsTheOverrides(t *testing.T) {
	dir := t.TempDir()
	transito := newPackage(t, dir, "transito", published)
	withoutOwnError(t, transito, "transito")
	writeText(t, filepath.Join(transito, "messages.yaml"), transitoMessages)
	srv, a := packagesApp(t, dir, "test-admin-token")
	sms := func(phone string) *phoneOn { return channelsFor(t, a, phone, "")["sms"] }
	tooShort := func(phone string) string {
		h := sms(phone)
		h.send("TRANSITO")
		return h.send("12")
	}
	expect(t, tooShort("+593992002001"), "Tránsito: de 3 a 10 dígitos.")

	path := filepath.Join(transito, "messages.yaml")
	editFile(t, path, func(m string) string { return strings.Replace(m, "validate.length:", "validate.lenght:", 1) })
	code, body := postAdmin(t, srv.URL, "/admin/packages/transito/reload")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "transito/messages.yaml:3:3: messages.validate.lenght") || !strings.Contains(body, `(did you mean "validate.length"?)`) {
		t.Errorf("a broken messages file: %d %s", code, body)
	}
	expect(t, tooShort("+593992002002"), "Tránsito: de 3 a 10 dígitos.")

	editFile(t, path, func(m string) string {
		return strings.Replace(strings.Replace(m, "validate.lenght:", "validate.length:", 1), "Tránsito: de {{Min}}", "Agencia de tránsito: de {{Min}}", 1)
	})
	if code, body := postAdmin(t, srv.URL, "/admin/packages/transito/reload"); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	expect(t, tooShort("+593992002003"), "Agencia de tránsito: de 3 a 10 dígitos.")

	// Without the file, the catalogue's texts again.
	writeText(t, path, "# nothing overridden for now\n")
	if code, body := postAdmin(t, srv.URL, "/admin/packages/transito/reload"); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	expect(t, tooShort("+593992002004"), "Escriba entre 3 y 10 caracteres.")
}

// The lint of a package checks its messages file where it is written,
// with the names meant; the start refuses it the same way.
func TestMessagesFileLint(t *testing.T) {
	dir := t.TempDir()
	pkg := newPackage(t, dir, "transito", published)
	writeText(t, filepath.Join(pkg, "messages.yaml"), `messages:
  call.eror: {es: "Falla."}
  resume.prompt:
    es: "Tiene pendiente {{Flw}}."
    es-EC: "Pendiente."
  nav.back: {en: "Go back"}
`)
	code, out, errs := runCLI(t, "", "flows", "lint", pkg)
	for _, want := range []string{
		`transito/messages.yaml:2:3: messages.call.eror: error: "call.eror" is not a system message (did you mean "call.error"?)`,
		`transito/messages.yaml:4:26: messages.resume.prompt.es: error: {{Flw}}: this message is given Flow (did you mean {{Flow}}?) [bad-hole]`,
		`transito/messages.yaml:5:5: messages.resume.prompt.es-EC: error: unknown locale "es-EC" (did you mean "es"?); the locales are es, en, qu [unknown-locale]`,
		`transito/messages.yaml:6:18: messages.nav.back.en: warning: "Go back": a navigation label is one word of at most 12 characters`,
		"; 3 errors, 1 warning\n",
	} {
		if !strings.Contains(out+errs, want) {
			t.Errorf("lint lacks %s", want)
		}
	}
	if code == 0 || t.Failed() {
		t.Errorf("lint: %d\n%s%s", code, out, errs)
	}
	getenv := func(name string) (string, bool) {
		return "http://127.0.0.1:1", strings.HasSuffix(name, "_API_URL") || strings.HasSuffix(name, "_API_KEY")
	}
	_, err := newApp(&config{Root: "inicio", Packages: listFlag{dir}, Keywords: defaultKeywords}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err == nil || !strings.Contains(err.Error(), `transito/messages.yaml:2:3: messages.call.eror: error: "call.eror" is not a system message (did you mean "call.error"?)`) {
		t.Errorf("start: %v", err)
	}
}
