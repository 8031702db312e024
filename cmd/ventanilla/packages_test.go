package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
)

// newPackage writes the scaffold of institution id under dir, with edit
// applied to its manifest, and returns the package's folder.
func newPackage(t *testing.T, dir, id string, edit func(manifest string) string) string {
	t.Helper()
	if code, out, errs := runCLI(t, "", "institution", "new", id, "--dir", dir); code != 0 {
		t.Fatalf("institution new: %d\n%s%s", code, out, errs)
	}
	pkg := filepath.Join(dir, id)
	if edit != nil {
		path := filepath.Join(pkg, "institution.yaml")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(edit(string(data))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return pkg
}

func published(m string) string { return strings.Replace(m, "draft: true\n", "", 1) }

// packagesApp serves the catalogue and the packages under dir. The
// institutions' back-ends answer every request number with "en revisión".
func packagesApp(t *testing.T, dir string, admin string, edit ...func(*config)) (*httptest.Server, *app) {
	t.Helper()
	sampleSrv := httptest.NewServer(sample.New(sample.Options{Now: func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }}))
	t.Cleanup(sampleSrv.Close)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status": "en revisión"}`)
	}))
	t.Cleanup(backend.Close)
	getenv := func(name string) (string, bool) {
		switch {
		case name == "VENTANILLA_SAMPLE_URL", strings.HasSuffix(name, "_API_URL"):
			if name == "VENTANILLA_SAMPLE_URL" {
				return sampleSrv.URL, true
			}
			return backend.URL, true
		case strings.HasSuffix(name, "_API_KEY"):
			return "a-test-key", true
		}
		return "", false
	}
	c := &config{Root: "inicio", Packages: listFlag{dir}, AdminToken: admin, Keywords: defaultKeywords}
	for _, e := range edit {
		e(c)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := newApp(c, log, getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	srv := httptest.NewServer(a.echo)
	t.Cleanup(srv.Close)
	return srv, a
}

// phoneOn talks to the gateway the way a carrier adapter hands it a hop.
type phoneOn struct {
	t  *testing.T
	a  *app
	in carrier.Inbound
}

func (h *phoneOn) send(text string) string {
	h.t.Helper()
	in := h.in
	in.Input = text
	r, err := h.a.gateway.Hop(context.Background(), in)
	if err != nil {
		h.t.Fatalf("hop %q: %v", text, err)
	}
	out := r.Text
	for _, row := range r.Buttons {
		for _, b := range row {
			out += "\n" + b.Data + ". " + b.Label
		}
	}
	return out
}

// The four channels, as their adapters hand hops to the gateway.
func channelsFor(t *testing.T, a *app, phone, chat string) map[string]*phoneOn {
	return map[string]*phoneOn{
		"ussd":     {t, a, carrier.Inbound{Channel: "ussd", Carrier: "africastalking", SessionID: "u-" + phone, Phone: phone, ServiceCode: "*384#"}},
		"sms":      {t, a, carrier.Inbound{Channel: "sms", Carrier: "twilio", Phone: phone}},
		"whatsapp": {t, a, carrier.Inbound{Channel: "chat", Carrier: "whatsapp", SessionID: "w-" + phone, Phone: phone}},
		"telegram": {t, a, carrier.Inbound{Channel: "chat", Carrier: "telegram", SessionID: chat}},
	}
}

// A new institution's package placed next to the catalogue appears in the
// national menu on every channel and in every language, after the
// catalogue's entries, and opens its flow; nothing else changed.
func TestNewPackageAppearsInTheMenuOnEveryChannel(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", published)
	_, a := packagesApp(t, dir, "")
	titles := map[string]string{"1": "Consulta transito", "2": "transito enquiry", "3": "transito tapuy"}
	asks := map[string]string{"1": "Escriba el número de su solicitud:", "2": "Type your request number:", "3": "Mañaypa yupayta killkay:"}
	shipped := map[string]string{"1": "1. Turnos", "2": "1. Appointments", "3": "1. Turnokuna"}
	n := 0
	for name := range channelsFor(t, a, "", "") {
		for _, lang := range []string{"1", "2", "3"} {
			n++
			phone := "+59399100" + strings.Repeat("0", 4-len(itoa(n))) + itoa(n)
			h := channelsFor(t, a, phone, "50"+itoa(n))[name]
			if first := h.send(""); !strings.Contains(first, "Elija su idioma") {
				t.Fatalf("%s: first screen %q", name, first)
			}
			menu := h.send(lang)
			if !strings.Contains(menu, shipped[lang]) || !strings.Contains(menu, "4. "+titles[lang]) {
				t.Errorf("%s, language %s: menu lacks the catalogue's and the new entry:\n%s", name, lang, menu)
				continue
			}
			if got := h.send("4"); !strings.Contains(got, asks[lang]) {
				t.Errorf("%s, language %s: the entry opened %q", name, lang, got)
			}
		}
	}
	// Its keyword opens it by SMS.
	sms := channelsFor(t, a, "+593991009999", "")["sms"]
	if got := sms.send("TRANSITO"); !strings.Contains(got, "Escriba el número de su solicitud") {
		t.Errorf("keyword: %q", got)
	}
}

// A draft entry is shown, and opened by its keyword, only to the testers
// the manifest lists: their numbers on USSD, SMS and WhatsApp, their chat
// on Telegram. Anyone else sees the national menu as if it did not exist.
func TestDraftEntryOnlyForTesters(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", func(m string) string {
		return strings.Replace(m, `  phones: ["+593991234567"]`, "  phones: [\"+593991234567\"]\n  telegram: [\"777\"]", 1)
	})
	_, a := packagesApp(t, dir, "")
	const tester, other = "+593991234567", "+593997654321"
	// The national menu, past the language choice on a first contact (a
	// number's language is remembered across channels).
	menu := func(h *phoneOn) string {
		got := h.send("")
		if strings.Contains(got, "Elija su idioma") {
			got = h.send("1")
		}
		return got
	}
	for _, name := range []string{"ussd", "sms", "whatsapp", "telegram"} {
		if got := menu(channelsFor(t, a, tester, "777")[name]); !strings.Contains(got, "4. Consulta transito") {
			t.Errorf("%s: the tester does not see the draft:\n%s", name, got)
		}
		if got := menu(channelsFor(t, a, other, "888")[name]); strings.Contains(got, "Consulta transito") || !strings.Contains(got, "3. Quejas y sugerencias") {
			t.Errorf("%s: another citizen sees the draft:\n%s", name, got)
		}
	}
	for name, h := range channelsFor(t, a, tester, "777") {
		if name == "ussd" {
			continue // keywords are for SMS and chat
		}
		if got := h.send("TRANSITO"); !strings.Contains(got, "Escriba el número de su solicitud") {
			t.Errorf("%s: the tester's keyword opened %q", name, got)
		}
	}
	for name, h := range channelsFor(t, a, other, "888") {
		if name == "ussd" {
			continue
		}
		if got := h.send("TRANSITO"); strings.Contains(got, "solicitud") || !strings.Contains(got, "Ventanilla") {
			t.Errorf("%s: another citizen's keyword opened %q", name, got)
		}
	}
}

// To anyone but its testers a draft's keyword and short code are words
// and codes nobody claimed: the answers after them are not given to the
// national menu, and its screens are the ones the citizen would get
// without the draft.
func TestDraftEntranceIsAsIfNobodyClaimedIt(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", func(m string) string {
		return strings.Replace(m, "keywords: [TRANSITO]", "keywords: [TRANSITO]\n    short_code: \"*384*7#\"", 1)
	})
	_, a := packagesApp(t, dir, "")
	n := 0
	other := func(name string) *phoneOn {
		n++
		return channelsFor(t, a, "+59399765"+strings.Repeat("0", 4-len(itoa(n)))+itoa(n), "88"+itoa(n))[name]
	}
	for _, name := range []string{"sms", "whatsapp", "telegram"} {
		want := other(name).send("HOLA 2")
		if got := other(name).send("TRANSITO 2"); got != want {
			t.Errorf("%s: the draft's keyword with an answer gave\n%s\nwhere a word nobody claimed gives\n%s", name, got, want)
		}
		h := other(name)
		h.send("")
		h.send("1")
		want = h.send("HOLA 2")
		h = other(name)
		h.send("")
		h.send("1")
		if got := h.send("TRANSITO 2"); got != want {
			t.Errorf("%s, language chosen: the draft's keyword with an answer gave\n%s\nwhere a word nobody claimed gives\n%s", name, got, want)
		}
	}
	dial := func(code string) string {
		h := other("ussd")
		h.send("")
		h.send("1")
		h.in.SessionID += "-again"
		h.in.ServiceCode = code
		return h.send("")
	}
	want := dial("*384*8*2#")
	if got := dial("*384*7*2#"); got != want {
		t.Errorf("ussd: the draft's short code with an answer gave\n%s\nwhere a code nobody claimed gives\n%s", got, want)
	}
	if got := dial("*384*7#"); strings.Contains(got, "00.") || !strings.Contains(got, "Ventanilla") {
		t.Errorf("ussd: the draft's short code gave\n%s", got)
	}
}

// GET /v1/catalogue lists the live entries with what a portal needs, and
// answers 304 to a poll while nothing changed; drafts are not listed.
func TestCatalogueEndpoint(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", published)
	newPackage(t, dir, "registro-civil", nil) // a draft
	srv, _ := packagesApp(t, dir, "")
	resp, err := http.Get(srv.URL + "/v1/catalogue")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc catalogueBody
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range doc.Entries {
		ids = append(ids, e.ID)
	}
	if got := strings.Join(ids, " "); got != "ventanilla/turnos ventanilla/estado-tramite ventanilla/buzon transito/consulta" {
		t.Errorf("entries %s", got)
	}
	if doc.Count != 4 || doc.Institutions != 2 {
		t.Errorf("count %d institutions %d", doc.Count, doc.Institutions)
	}
	e := doc.Entries[3]
	if e.Title["en"] != "transito enquiry" || e.Category.ID != "transito" || strings.Join(e.Keywords, ",") != "TRANSITO" ||
		len(e.Channels) != 4 || strings.Join(e.Languages, ",") != "es,en,qu" || e.Institution.Contact.Email == "" {
		t.Errorf("entry %+v", e)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") {
		t.Errorf("cache headers: %v", resp.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/catalogue", nil)
	req.Header.Set("If-None-Match", etag)
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("conditional poll: %d", again.StatusCode)
	}
}

// The scaffold of a new institution lints clean, strictly, and passes its
// own transcript; `ventanilla catalogue` lists it.
func TestInstitutionNewLintsCleanAndPassesItsTranscript(t *testing.T) {
	dir := t.TempDir()
	pkg := newPackage(t, dir, "registro-civil", nil)
	// The summary names what the author checked, then what it was
	// checked with.
	want := "registro-civil: 1 flow; with the catalogue and the national menu, 7 flows, 2 institutions; 0 errors, 0 warnings\n"
	if code, out, errs := runCLI(t, "", "flows", "lint", "--strict", pkg); code != 0 || !strings.HasSuffix(out, want) {
		t.Errorf("lint: %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "", "flows", "test", pkg); code != 0 || !strings.Contains(out, "2 passed, 0 failed") {
		t.Errorf("test: %d\n%s%s", code, out, errs)
	}
	code, out, errs := runCLI(t, "", "catalogue", pkg)
	if code != 0 || !strings.Contains(out, "registro-civil/consulta (draft)") {
		t.Errorf("catalogue: %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "institution", "new", "registro-civil", "--dir", dir); code == 0 || !strings.Contains(errs, "exists") {
		t.Errorf("a second new over the first: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "institution", "new", "Registro_Civil"); code != 2 || !strings.Contains(errs, "lower-case") {
		t.Errorf("a bad id: %d %s", code, errs)
	}
}

// Linting the folder that holds the packages, from inside it, keeps to
// the packages' own problems: the shipped catalogue's files are named
// "catalogue/…", which a relative folder must not be taken to hold.
func TestLintOfTheCurrentFolderLeavesTheCatalogueOut(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", nil)
	t.Chdir(dir)
	want := "transito: 1 flow; with the catalogue and the national menu, 7 flows, 2 institutions; 0 errors, 0 warnings\n"
	if code, out, errs := runCLI(t, "", "flows", "lint", "--strict", "."); code != 0 || out != want {
		t.Errorf("lint .: %d\n%s%s", code, out, errs)
	}
}

func postAdmin(t *testing.T, url, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+path, nil)
	req.Header.Set("Authorization", "Bearer test-admin-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func editFile(t *testing.T, path string, edit func(string) string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(edit(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A reload takes every package or none: one broken package is refused
// with its problems and the running set keeps serving, conversations in
// flight included. A per-package reload publishes one institution's
// release without reading another's folder, and a conversation that saw
// the menu before it goes on with the menu it saw.
func TestPackageReloadAllOrNothingWithConversationsInFlight(t *testing.T) {
	dir := t.TempDir()
	transito := newPackage(t, dir, "transito", published)
	municipio := newPackage(t, dir, "municipio", published)
	srv, a := packagesApp(t, dir, "test-admin-token")
	ussd := func(phone string) *phoneOn { return channelsFor(t, a, phone, "")["ussd"] }
	menuOf := func(h *phoneOn) string { h.send(""); return h.send("1") }

	inTransito, inMunicipio, atMenu := ussd("+593991000201"), ussd("+593991000202"), ussd("+593991000203")
	menuOf(inTransito)
	expect(t, inTransito.send("5"), "Escriba el número de su solicitud")
	menuOf(inMunicipio)
	expect(t, inMunicipio.send("4"), "Escriba el número de su solicitud")
	expect(t, menuOf(atMenu), "4. Consulta municipio\n5. Consulta transito\n6. Idioma / Language")

	// municipio's release is broken: neither reload takes it.
	editFile(t, filepath.Join(municipio, "institution.yaml"), func(m string) string { return strings.Replace(m, "keywords:", "keywrds:", 1) })
	for _, path := range []string{"/admin/reload", "/admin/packages/municipio/reload"} {
		code, body := postAdmin(t, srv.URL, path)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "municipio/institution.yaml:") || !strings.Contains(body, `(did you mean "keywords"?)`) {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	// A release whose flow is not YAML is refused with the mistake at its
	// line and column, in words.
	manifest, consulta := filepath.Join(municipio, "institution.yaml"), filepath.Join(municipio, "flows", "municipio-consulta.yaml")
	editFile(t, manifest, func(m string) string { return strings.Replace(m, "keywrds:", "keywords:", 1) })
	editFile(t, consulta, func(f string) string { return strings.Replace(f, "\n    kind: call\n", "\n\tkind: call\n", 1) })
	for _, path := range []string{"/admin/reload", "/admin/packages/municipio/reload"} {
		code, body := postAdmin(t, srv.URL, path)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "municipio/flows/municipio-consulta.yaml:31:1: (file): error: tabs cannot indent YAML; use spaces") {
			t.Errorf("%s with a tab: %d %s", path, code, body)
		}
	}
	editFile(t, consulta, func(f string) string { return strings.Replace(f, "\n\tkind: call\n", "\n    kind: call\n", 1) })
	editFile(t, manifest, func(m string) string { return strings.Replace(m, "keywords:", "keywrds:", 1) })
	// Everything keeps serving, the conversations in flight first.
	expect(t, inTransito.send("1002"), "Solicitud 1002: en revisión.")
	expect(t, inMunicipio.send("1002"), "Solicitud 1002: en revisión.")
	expect(t, menuOf(ussd("+593991000204")), "4. Consulta municipio\n5. Consulta transito")
	if got := channelsFor(t, a, "+593991000205", "")["sms"].send("MUNICIPIO"); !strings.Contains(got, "Escriba el número") {
		t.Errorf("municipio's keyword after the refused reload: %q", got)
	}

	// The fixed release adds a second entry (and a keyword); transito's
	// folder, edited meanwhile, is not read by municipio's reload.
	editFile(t, filepath.Join(municipio, "institution.yaml"), func(m string) string {
		return strings.Replace(m, "keywrds:", "keywords:", 1) + `  pagos:
    title: {es: "Pagos municipio", en: "municipio payments", qu: "municipio pagokuna"}
    category: municipio
    keywords: [PREDIAL]
    flow: municipio-consulta
`
	})
	editFile(t, filepath.Join(transito, "institution.yaml"), func(m string) string {
		return strings.Replace(m, `es: "Consulta transito"`, `es: "Consulta transito (sin publicar)"`, 1)
	})
	code, body := postAdmin(t, srv.URL, "/admin/packages/municipio/reload")
	if code != http.StatusOK {
		t.Fatalf("municipio's reload: %d %s", code, body)
	}
	fresh := ussd("+593991000206")
	expect(t, menuOf(fresh), "4. Institución municipio\n5. Consulta transito\n6. Idioma")
	expect(t, fresh.send("4"), "1. Consulta municipio\n2. Pagos municipio")
	if got := channelsFor(t, a, "+593991000207", "")["sms"].send("PREDIAL"); !strings.Contains(got, "Escriba el número") {
		t.Errorf("the new keyword: %q", got)
	}
	// The citizen who saw the old menu gets what its option 4 was then.
	expect(t, atMenu.send("4"), "Escriba el número de su solicitud")

	if code, body := postAdmin(t, srv.URL, "/admin/packages/nadie/reload"); code != http.StatusNotFound {
		t.Errorf("unknown package: %d %s", code, body)
	}
	if code, body := postAdmin(t, srv.URL, "/admin/packages/ventanilla/reload"); code != http.StatusUnprocessableEntity || !strings.Contains(body, "embedded") {
		t.Errorf("the embedded catalogue: %d %s", code, body)
	}
}

// notifyApp serves the packages under dir with the notifications API on
// (Twilio's API served locally) and returns a function that asks for a
// notification with token and template.
func notifyApp(t *testing.T, dir string) (*httptest.Server, *app, func(token, template string) (int, string)) {
	t.Helper()
	tw := httptest.NewServer(&twilioAPI{})
	t.Cleanup(tw.Close)
	env := map[string]string{
		"TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("a", 32), "TWILIO_AUTH_TOKEN": "twilioauthtoken0123456789abcdef0",
		"TWILIO_FROM": "+15005550006", "TWILIO_API_URL": tw.URL,
		"VENTANILLA_NOTIFY_TOKENS": "transito=transito-token-0123456789,municipio=municipio-token-0123456789",
		"TRANSITO_API_URL":         "http://127.0.0.1:1", "TRANSITO_API_KEY": "k", "MUNICIPIO_API_URL": "http://127.0.0.1:1", "MUNICIPIO_API_KEY": "k",
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	a, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords, Packages: listFlag{dir}}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.outbound.close(context.Background()) })
	srv := httptest.NewServer(a.echo)
	t.Cleanup(srv.Close)
	send := func(token, template string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/notifications", strings.NewReader(`{"to": "+593991234567", "template": "`+template+`", "params": {"numero": "7"}}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	return srv, a, send
}

func writeText(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Each institution sends only its own package's templates and reads only
// its own notifications, through the gateway as configured.
func TestNotificationTemplatesAreTheInstitutions(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", published)
	newPackage(t, dir, "municipio", published)
	writeText(t, filepath.Join(dir, "transito", "templates.yaml"), "templates:\n  transito_multa:\n    es: \"Tiene una multa {{numero}}.\"\n")
	writeText(t, filepath.Join(dir, "municipio", "templates.yaml"), "templates:\n  municipio_predial:\n    es: \"Su predial {{numero}} vence pronto.\"\n")
	srv, _, send := notifyApp(t, dir)
	code, body := send("transito-token-0123456789", "transito_multa")
	if code != http.StatusAccepted {
		t.Fatalf("transito's own template: %d %s", code, body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(body), &created)
	if code, body := send("municipio-token-0123456789", "transito_multa"); code != http.StatusBadRequest || !strings.Contains(body, `unknown template \"transito_multa\"`) {
		t.Errorf("municipio with transito's template: %d %s", code, body)
	}
	if code, body := send("municipio-token-0123456789", "municipio_predial"); code != http.StatusAccepted {
		t.Errorf("municipio's own template: %d %s", code, body)
	}
	read := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/notifications/"+created.ID, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := read("transito-token-0123456789"); got != http.StatusOK {
		t.Errorf("transito reading its notification: %d", got)
	}
	if got := read("municipio-token-0123456789"); got != http.StatusNotFound {
		t.Errorf("municipio reading transito's notification: %d", got)
	}
}

// A reload, of every package or of one, swaps a package's notification
// templates with its flows; a package whose templates do not load is
// refused whole, and the templates running stay.
func TestNotificationTemplatesReloadWithThePackage(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", published)
	newPackage(t, dir, "municipio", published)
	templates := filepath.Join(dir, "transito", "templates.yaml")
	writeText(t, templates, "templates:\n  transito_multa:\n    es: \"Tiene una multa {{numero}}.\"\n")
	_, a, send := notifyApp(t, dir)
	const token = "transito-token-0123456789"
	if code, body := send(token, "transito_multa"); code != http.StatusAccepted {
		t.Fatalf("before the reload: %d %s", code, body)
	}

	writeText(t, templates, "templates:\n  transito_citacion:\n    es: \"Tiene una citación {{numero}}.\"\n")
	if _, err := a.reload(""); err != nil {
		t.Fatal(err)
	}
	if code, body := send(token, "transito_citacion"); code != http.StatusAccepted {
		t.Errorf("a template added, after the reload: %d %s", code, body)
	}
	if code, body := send(token, "transito_multa"); code != http.StatusBadRequest {
		t.Errorf("a template removed, after the reload: %d %s", code, body)
	}

	writeText(t, templates, "templates:\n  transito_aviso:\n    es: \"Aviso {{numero}}.\"\n")
	if _, err := a.reload("transito"); err != nil {
		t.Fatal(err)
	}
	if code, body := send(token, "transito_aviso"); code != http.StatusAccepted {
		t.Errorf("after the package's own reload: %d %s", code, body)
	}
	if code, body := send("municipio-token-0123456789", "transito_aviso"); code != http.StatusBadRequest {
		t.Errorf("another institution with the reloaded template: %d %s", code, body)
	}

	// Broken templates: nothing of the package is taken, not even its
	// flows, and the running templates keep serving.
	writeText(t, templates, "templates:\n  transito_roto:\n    es: \"Sin cerrar {{numero\"\n")
	flow := filepath.Join(dir, "transito", "flows", "transito-consulta.yaml")
	data, err := os.ReadFile(flow)
	if err != nil {
		t.Fatal(err)
	}
	writeText(t, flow, strings.Replace(string(data), "\nversion: 1", "\nversion: 2", 1))
	if _, err := a.reload("transito"); err == nil {
		t.Fatal("a package with broken templates was taken")
	}
	if code, body := send(token, "transito_aviso"); code != http.StatusAccepted {
		t.Errorf("the running template after a refused reload: %d %s", code, body)
	}
	if v := a.flows.Load().Latest("transito-consulta").Version; v != 1 {
		t.Errorf("the package's flow after a refused reload: version %d", v)
	}
}

// Every record of the audit trail names the institution whose trámite it
// was, from the packages loaded; `ventanilla audit --institution` gives
// an institution its own records, and names the institutions the trail
// holds when asked for one it does not.
func TestAuditPerInstitution(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", published)
	newPackage(t, dir, "municipio", published)
	trail := t.TempDir()
	_, a := packagesApp(t, dir, "", func(c *config) { c.AuditDir = trail })
	for _, word := range []string{"TRANSITO", "MUNICIPIO"} {
		sms := channelsFor(t, a, "+593991000301", "")["sms"]
		sms.send(word)
		if got := sms.send("1002"); !strings.Contains(got, "en revisión") {
			t.Fatalf("%s: %q", word, got)
		}
	}
	ussd := channelsFor(t, a, "+593991000302", "")["ussd"]
	ussd.send("")
	ussd.send("1") // Español: the national menu, composed
	ussd.in.Event = carrier.EventEnd
	ussd.send("")
	if err := a.audit.Close(); err != nil {
		t.Fatal(err)
	}

	code, out, errs := runCLI(t, "", "audit", "--audit-dir", trail, "--institution", "transito")
	if code != 0 {
		t.Fatalf("audit: %d %s", code, errs)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct{ Institution, Kind, Flow, Service, Outcome string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, r.Institution+" "+r.Kind+" "+r.Flow+" "+r.Service+" "+r.Outcome)
	}
	want := []string{"transito call transito-consulta transito.status ok", "transito outcome transito-consulta  completed"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transito's records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(errs, "2 records of institution transito") {
		t.Errorf("summary: %s", errs)
	}

	code, out, _ = runCLI(t, "", "audit", "--audit-dir", trail, "--institution", "ventanilla", "--kind", "outcome")
	if code != 0 || !strings.Contains(out, `"institution":"ventanilla","citizen"`) || !strings.Contains(out, `"flow":"inicio"`) {
		t.Errorf("the national menu's records: %d %s", code, out)
	}
	code, out, errs = runCLI(t, "", "audit", "--audit-dir", trail, "--institution", "transit")
	if code != 1 || out != "" || !strings.Contains(errs, `did you mean "transito"?`) || !strings.Contains(errs, "municipio, transito, ventanilla") {
		t.Errorf("a misspelt institution: %d %q %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "audit", "--audit-dir", trail, "--kind", "outcomes"); code != 2 || !strings.Contains(errs, `did you mean "outcome"?`) {
		t.Errorf("a misspelt kind: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "audit", "--audit-dir", trail, "--from", "2026-13-01"); code != 2 || !strings.Contains(errs, "neither a day") {
		t.Errorf("a bad day: %d %s", code, errs)
	}
}

// demo --sample-packages serves generated packages that load clean and
// appear in the national menu.
func TestSamplePackagesLoad(t *testing.T) {
	dir := t.TempDir()
	if err := writeSamplePackages(dir, 3, 2); err != nil {
		t.Fatal(err)
	}
	_, a := packagesApp(t, dir, "")
	var generated []string
	for _, id := range a.flows.Load().IDs() {
		if strings.HasPrefix(id, "sample") {
			generated = append(generated, id)
		}
	}
	if len(generated) != 3*2 {
		t.Errorf("generated flows: %v", generated)
	}
	ussd := channelsFor(t, a, "+593991000303", "")["ussd"]
	ussd.send("")
	if got := ussd.send("1"); !strings.Contains(got, "Consulta sample03") {
		t.Errorf("the national menu: %q", got)
	}
}

// A per-package reload compiles that package's flows again, and those of
// the institutions it shares services with (their calls may change);
// every other flow runs on as it was compiled.
func TestPackageReloadCompilesOnlyThatPackage(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", published)
	municipio := newPackage(t, dir, "municipio", func(m string) string { return published(m) + "shares:\n  municipio.status: [registro]\n" })
	newPackage(t, dir, "registro", published)
	_, a := packagesApp(t, dir, "")
	before := a.flows.Load()

	flow := filepath.Join(municipio, "flows", "municipio-consulta.yaml")
	editFile(t, flow, func(f string) string { return strings.Replace(f, "\nversion: 1", "\nversion: 2", 1) })
	if _, err := a.reload("municipio"); err != nil {
		t.Fatal(err)
	}
	after := a.flows.Load()
	if after.Latest("municipio-consulta").Version != 2 {
		t.Fatalf("municipio's flow: version %d", after.Latest("municipio-consulta").Version)
	}
	for _, id := range []string{"transito-consulta", "turnos", "estado-tramite"} {
		if after.Latest(id) != before.Latest(id) {
			t.Errorf("%s was compiled again", id)
		}
	}
	if after.Latest("registro-consulta") == before.Latest("registro-consulta") {
		t.Error("registro, which municipio shares a service with, was not compiled again")
	}
	// Conversations keep running on both.
	ussd := channelsFor(t, a, "+593991000310", "")["sms"]
	ussd.send("TRANSITO")
	expect(t, ussd.send("1002"), "Solicitud 1002: en revisión.")
}

// A per-package reload reads only that package, but checks it against
// the running ones as a start would: a keyword, a short code or a service
// of another institution is refused, naming both files, and the running
// set stays.
func TestPackageReloadKeepsTheChecksAcrossPackages(t *testing.T) {
	dir := t.TempDir()
	transito := newPackage(t, dir, "transito", func(m string) string {
		return strings.Replace(published(m), "keywords: [TRANSITO]", "keywords: [TRANSITO]\n    short_code: \"*384*7#\"", 1)
	})
	municipio := newPackage(t, dir, "municipio", published)
	_, a := packagesApp(t, dir, "")
	manifest := filepath.Join(municipio, "institution.yaml")
	flow := filepath.Join(municipio, "flows", "municipio-consulta.yaml")
	original := map[string][]byte{}
	for _, f := range []string{manifest, flow} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		original[f] = data
	}
	for _, tc := range []struct {
		name       string
		file       string
		edit       func(string) string
		code, with string // the problem's code, and the other package's file it names
	}{
		{"keyword", manifest, func(m string) string { return strings.Replace(m, "[MUNICIPIO]", "[MUNICIPIO, TRANSITO]", 1) },
			"keyword-clash", filepath.Join(transito, "institution.yaml")},
		{"short code", manifest, func(m string) string {
			return strings.Replace(m, "keywords: [MUNICIPIO]", "keywords: [MUNICIPIO]\n    short_code: \"*384*7#\"", 1)
		}, "short-code-clash", filepath.Join(transito, "institution.yaml")},
		{"service", flow, func(f string) string {
			return strings.Replace(f, "service: municipio.status", "service: transito.status", 1)
		},
			"not-shared", filepath.Join(transito, "services.yaml")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			editFile(t, tc.file, tc.edit)
			defer os.WriteFile(tc.file, original[tc.file], 0o644)
			running := a.flows.Load()
			problems, err := a.reload("municipio")
			if err == nil {
				t.Fatal("reload taken")
			}
			var found bool
			for _, p := range problems {
				both := p.File + " " + p.Message
				found = found || p.Code == tc.code && strings.Contains(both, municipio+string(filepath.Separator)) && strings.Contains(both, tc.with)
			}
			if !found {
				t.Errorf("no %s problem naming %s in\n%v", tc.code, tc.with, problems)
			}
			if a.flows.Load() != running {
				t.Error("the running flows were replaced")
			}
		})
	}
	// Fixed, the release is taken, and the checks ran on its own files.
	if _, err := a.reload("municipio"); err != nil {
		t.Fatal(err)
	}
	sms := channelsFor(t, a, "+593991000320", "")["sms"]
	expect(t, sms.send("TRANSITO"), "Escriba el número de su solicitud")
}

// A broken package stops the start, with its problems at file:line:col
// and the name probably meant; a file that is not YAML, at the line and
// column of its mistake.
func TestBrokenPackageStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", published)
	newPackage(t, dir, "municipio", func(m string) string { return strings.Replace(published(m), "keywords:", "keywrds:", 1) })
	registro := newPackage(t, dir, "registro", published)
	editFile(t, filepath.Join(registro, "services.yaml"), func(s string) string { return strings.Replace(s, `"${REGISTRO_API_KEY}"}`, `"${REGISTRO_API_KEY}}`, 1) })
	getenv := func(name string) (string, bool) {
		return "http://127.0.0.1:1", strings.HasSuffix(name, "_API_URL") || strings.HasSuffix(name, "_API_KEY")
	}
	_, err := newApp(&config{Root: "inicio", Packages: listFlag{dir}, Keywords: defaultKeywords}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err == nil || !strings.Contains(err.Error(), "municipio/institution.yaml:") || !strings.Contains(err.Error(), `(did you mean "keywords"?)`) {
		t.Errorf("got %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "registro/services.yaml:10:53: (file): error: this `\"` is never closed") {
		t.Errorf("the services file that is not YAML: got %v", err)
	}
}

// A package claiming a keyword the gateway answers itself (--keywords) or
// a code the operator routes (--routes) gets the error at its own
// manifest, from the lint as from the start.
func TestPackageClaimingTheGatewaysKeywordsOrRoutes(t *testing.T) {
	dir := t.TempDir()
	pkg := newPackage(t, dir, "transito", func(m string) string {
		return strings.Replace(m, "keywords: [TRANSITO]", "keywords: [Salir]\n    short_code: \"*384*2*1#\"", 1)
	})
	code, out, errs := runCLI(t, "", "flows", "lint", pkg)
	for _, want := range []string{
		"transito/institution.yaml:27:15: entries.consulta.keywords: error: keyword SALIR is the gateway's own (--keywords SALIR=stop)",
	} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("lint: %d, want %q in\n%s%s", code, want, out, errs)
		}
	}
	getenv := func(name string) (string, bool) {
		return "http://127.0.0.1:1", strings.HasSuffix(name, "_API_URL") || strings.HasSuffix(name, "_API_KEY")
	}
	_, err := newApp(&config{Root: "inicio", Packages: listFlag{dir}, Keywords: defaultKeywords, Routes: "*384*2#=estado-tramite"}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	for _, want := range []string{
		"transito/institution.yaml:27:15: entries.consulta.keywords: error: keyword SALIR is the gateway's own (--keywords SALIR=stop)",
		"transito/institution.yaml:28:17: entries.consulta.short_code: error: short code *384*2*1# starts with *384*2#, which the gateway routes to estado-tramite (--routes)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("start: want %q in %v", want, err)
		}
	}
}

// The composed national menu grows with every package and is paged like
// any menu; nobody can shorten it, so its length is not a warning that
// fails a strict lint of the packages or fills the log at every start.
func TestComposedMenuLengthIsNoWarning(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"transito", "municipio-quito", "registro-civil", "agencia-regulacion"} {
		newPackage(t, dir, id, published)
	}
	code, out, errs := runCLI(t, "", "flows", "lint", "--strict", dir)
	if code != 0 || strings.Contains(out, "(composed)") {
		t.Errorf("lint: %d\n%s%s", code, out, errs)
	}
}

// The scaffold lints clean for any id the manifest takes, the longest
// included: its keyword is one word of at most 20 letters.
func TestInstitutionNewLintsCleanForTheLongestID(t *testing.T) {
	const id = "agencia-nacional-de-regulacion-y-control" // 40 characters
	pkg := newPackage(t, t.TempDir(), id, nil)
	if code, out, errs := runCLI(t, "", "flows", "lint", "--strict", pkg); code != 0 || !strings.Contains(out, "0 errors, 0 warnings") {
		t.Errorf("lint: %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "", "flows", "test", pkg); code != 0 {
		t.Errorf("test: %d\n%s%s", code, out, errs)
	}
}

// An unset secret is reported at the services file, once: the flows that
// call the service are not told it is not declared, which it is.
func TestUnsetSecretIsNotAnUndeclaredService(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", published)
	getenv := func(name string) (string, bool) {
		return "http://127.0.0.1:1", strings.HasSuffix(name, "_API_URL")
	}
	_, err := newApp(&config{Root: "inicio", Packages: listFlag{dir}, Keywords: defaultKeywords}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err == nil || !strings.Contains(err.Error(), "transito/services.yaml:10:46: services.transito.status.auth.value: error: environment variable TRANSITO_API_KEY is not set") {
		t.Errorf("want the unset secret at the services file, got %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "not declared") {
		t.Errorf("the flow calling the service is told it is not declared:\n%v", err)
	}
}

// A portal may poll the catalogue with HEAD, as with GET, to read its
// ETag without the body.
func TestCatalogueHead(t *testing.T) {
	srv, _ := packagesApp(t, t.TempDir()+"/none", "", func(c *config) { c.Packages = nil })
	get, err := http.Get(srv.URL + "/v1/catalogue")
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	head, err := http.Head(srv.URL + "/v1/catalogue")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(head.Body)
	head.Body.Close()
	if head.StatusCode != http.StatusOK || head.Header.Get("ETag") == "" || head.Header.Get("ETag") != get.Header.Get("ETag") || len(body) != 0 {
		t.Errorf("HEAD: %d, ETag %q (GET's %q), %d bytes", head.StatusCode, head.Header.Get("ETag"), get.Header.Get("ETag"), len(body))
	}
}

// A new institution's first release, and a misspelt id, are told how to
// get there: the per-package reload takes packages already loaded.
func TestPackageReloadOfAPackageNotLoaded(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", published)
	srv, _ := packagesApp(t, dir, "test-admin-token")
	if code, body := postAdmin(t, srv.URL, "/admin/packages/transto/reload"); code != http.StatusNotFound || !strings.Contains(body, `(did you mean "transito"?)`) {
		t.Errorf("a misspelt id: %d %s", code, body)
	}
	newPackage(t, dir, "aduana", published)
	if code, body := postAdmin(t, srv.URL, "/admin/packages/aduana/reload"); code != http.StatusNotFound || !strings.Contains(body, "POST /admin/reload") {
		t.Errorf("a package added since the start: %d %s", code, body)
	}
	if code, body := postAdmin(t, srv.URL, "/admin/reload"); code != http.StatusOK || !strings.Contains(body, "aduana-consulta") {
		t.Errorf("the whole reload: %d %s", code, body)
	}
}

// An entry offered on some channels only is opened by its keyword on
// those only: elsewhere the word is one nobody claimed.
func TestKeywordOnlyOnTheEntrysChannels(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", func(m string) string {
		return strings.Replace(published(m), "keywords: [TRANSITO]", "keywords: [TRANSITO]\n    channels: [ussd, telegram]", 1)
	})
	_, a := packagesApp(t, dir, "")
	for i, name := range []string{"sms", "whatsapp", "telegram"} {
		h := channelsFor(t, a, "+59399300000"+itoa(i), "30"+itoa(i))[name]
		got := h.send("TRANSITO")
		if offered := name == "telegram"; offered != strings.Contains(got, "Escriba el número de su solicitud") {
			t.Errorf("%s: the keyword of an entry offered on ussd and telegram gave\n%s", name, got)
		}
	}
}
