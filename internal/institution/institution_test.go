package institution_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/institution"
	"github.com/ventanilla-gob/ventanilla/internal/institution/services"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// write creates files (relative name → text) under dir.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const manifestTransito = `institution: transito
name: {es: Agencia de Tránsito, en: Traffic agency, qu: Ñan agencia}
contact: {email: ayuda@transito.example.gob.ec}
entries:
  multas:
    title: {es: Multas de tránsito, en: Traffic fines, qu: Multakuna}
    category: transporte
    keywords: [MULTA]
    short_code: "*384*7#"
    flow: transito-multas
`

func flowFile(id, service string) string {
	call := ""
	if service != "" {
		call = fmt.Sprintf(`
  lookup:
    kind: call
    service: %s
    on: {ok: done, error: done}
`, service)
	}
	start := "done"
	if service != "" {
		start = "lookup"
	}
	return fmt.Sprintf(`spec_version: 1
id: %s
version: 1
institution: Test
title: {es: Prueba, en: Test, qu: Test}
locales: [es, en, qu]
start: %s
steps:%s
  done:
    kind: end
    text: {es: Listo., en: Done., qu: Listo.}
`, id, start, call)
}

const servicesTransito = `services:
  transito.multas:
    kind: rest
    base_url: ${TRANSITO_API_URL}
    method: GET
    path: /fines
    timeout: 2s
`

// transito is a lint-clean package; changes edit one of its files.
func transito(t *testing.T, root string, changes map[string]string) string {
	t.Helper()
	dir := filepath.Join(root, "transito")
	files := map[string]string{
		"institution.yaml":           manifestTransito,
		"flows/transito-multas.yaml": flowFile("transito-multas", "transito.multas"),
		"services.yaml":              servicesTransito,
		"README.md":                  "# transito\n",
	}
	for k, v := range changes {
		files[k] = v
	}
	write(t, dir, files)
	return dir
}

func env(name string) (string, bool) {
	switch {
	case strings.HasSuffix(name, "_URL"):
		return "http://127.0.0.1:1", true
	case strings.HasSuffix(name, "_CALLBACK_SECRET"):
		return "a-signing-secret-of-forty-bytes-or-so-42", true
	case strings.HasSuffix(name, "_WEAK_SECRET"):
		return "hunter2", true
	}
	return "", false
}

// compose reads the catalogue and the packages under root and composes them.
func compose(t *testing.T, root string) (*composed, flows.Problems) {
	t.Helper()
	pkgs, problems, err := institution.ReadAll(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	var c services.Collector
	set, ps := institution.Compose(append([]*institution.Package{catalogue.Package()}, pkgs...), institution.Options{Getenv: env, Secrets: env, Services: c.Parse})
	problems = append(problems, ps...)
	reg, err := c.Registry()
	if err != nil && !problems.HasErrors() {
		t.Fatal(err)
	}
	return &composed{set, reg}, problems
}

type composed struct {
	*institution.Set
	Services *interop.Registry
}

func load(t *testing.T, set *composed) (*flows.Registry, flows.Problems) {
	t.Helper()
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return flows.Load(set.Sources, flows.Env{Messages: msgs, Service: func(id string) bool { _, ok := set.Services.Lookup(id); return ok }})
}

func wantProblem(t *testing.T, ps flows.Problems, parts ...string) {
	t.Helper()
	for _, p := range ps {
		s := p.String()
		ok := p.Severity == flows.Error
		for _, part := range parts {
			ok = ok && strings.Contains(s, part)
		}
		if ok {
			return
		}
	}
	t.Errorf("no error with %q among:\n%s", parts, ps)
}

func TestCleanPackageComposes(t *testing.T) {
	root := t.TempDir()
	transito(t, root, nil)
	set, ps := compose(t, root)
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	reg, ps := load(t, set)
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	for _, id := range []string{"inicio", "turnos", "transito-multas"} {
		if reg.Latest(id) == nil {
			t.Errorf("flow %s not loaded", id)
		}
	}
	if set.Keywords["MULTA"] != "transito-multas" || set.Keywords["TURNO"] != "turnos" {
		t.Errorf("keywords %v", set.Keywords)
	}
	if set.Routes["*384*7#"] != "transito-multas" {
		t.Errorf("routes %v", set.Routes)
	}
	if set.Owner("transito-multas") != "transito" || set.Owner("turnos") != "ventanilla" {
		t.Error("owners")
	}
}

// A manifest's callback gives the set its endpoint, with the secret read
// from the institution's environment.
func TestCallbackEndpoint(t *testing.T) {
	root := t.TempDir()
	transito(t, root, map[string]string{"institution.yaml": manifestTransito + "callback:\n  url: https://api.transito.example.gob.ec/cb\n  secret_env: TRANSITO_CALLBACK_SECRET\n"})
	c, ps := compose(t, root)
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	ep, ok := c.Callback("transito")
	if !ok || ep.URL != "https://api.transito.example.gob.ec/cb" || string(ep.Secret) != "a-signing-secret-of-forty-bytes-or-so-42" {
		t.Errorf("Callback(transito) = %v %q, %v", ep.URL, ep.Secret, ok)
	}
	if _, ok := c.Callback("ventanilla"); ok {
		t.Error("the catalogue, which declares no callback, has one")
	}
}

// Every mistake is an error at the file, line and column where it was
// written; a clash names the other file too.
func TestProblems(t *testing.T) {
	other := func(id string, files map[string]string) func(t *testing.T, root string) {
		return func(t *testing.T, root string) { write(t, filepath.Join(root, id), files) }
	}
	otherManifest := func(id, extra string) string {
		return fmt.Sprintf("institution: %s\nname: {es: Otra, en: Other, qu: Other}\ncontact: {email: a@b.ec}\n%s", id, extra)
	}
	cases := []struct {
		name    string
		changes map[string]string
		more    func(t *testing.T, root string)
		want    []string
	}{
		{"misspelt field", map[string]string{"institution.yaml": strings.Replace(manifestTransito, "    keywords:", "    keyowrds:", 1)},
			nil, []string{"transito/institution.yaml:8:5", `unknown field "keyowrds" (did you mean "keywords"?)`}},
		{"malformed manifest", map[string]string{"institution.yaml": "institution: transito\nname: {es: Tránsito\n"},
			nil, []string{"transito/institution.yaml:2:7:", "this `{` is never closed"}},
		{"unknown channel", map[string]string{"institution.yaml": manifestTransito + "    channels: [usd]\n"},
			nil, []string{"transito/institution.yaml:11:16", `unknown channel "usd" (did you mean "ussd"?)`}},
		{"unknown locale", map[string]string{"institution.yaml": strings.Replace(manifestTransito, "qu: Multakuna", "qy: Multakuna", 1)},
			nil, []string{"transito/institution.yaml:6:", `unknown locale "qy" (did you mean "qu"?)`}},
		{"bad short code", map[string]string{"institution.yaml": strings.Replace(manifestTransito, `"*384*7#"`, `"384-7"`, 1)},
			nil, []string{"transito/institution.yaml:9:17", "a USSD code such as *384*7#"}},
		{"missing field", map[string]string{"institution.yaml": strings.Replace(manifestTransito, "contact: {email: ayuda@transito.example.gob.ec}\n", "", 1)},
			nil, []string{"transito/institution.yaml:1:1", `the manifest needs "contact"`}},
		{"entry opens a missing flow", map[string]string{"institution.yaml": strings.Replace(manifestTransito, "flow: transito-multas", "flow: transito-multa", 1)},
			nil, []string{"transito/institution.yaml:10:11", `opens flow "transito-multa", which is not among the flows of transito`, `transito/flows/`, `did you mean "transito-multas"`}},
		{"unknown category", map[string]string{"institution.yaml": strings.Replace(manifestTransito, "category: transporte", "category: transprte", 1)},
			nil, []string{"transito/institution.yaml:7:15", `unknown category "transprte" (did you mean "transporte"?)`}},
		{"flow id outside the namespace", map[string]string{"flows/transito-multas.yaml": flowFile("multas", "transito.multas")},
			nil, []string{"transito/flows/transito-multas.yaml:2:5", `the flows of institution "transito" are called "transito" or start with "transito-"`}},
		{"service id outside the namespace", map[string]string{"services.yaml": strings.Replace(servicesTransito, "transito.multas:", "multas:", 1)},
			nil, []string{"transito/services.yaml:2:3", `the services of institution "transito" start with "transito."`}},
		{"secret outside the prefix", map[string]string{"services.yaml": strings.Replace(servicesTransito, "TRANSITO_API_URL", "VENTANILLA_SAMPLE_URL", 1)},
			nil, []string{"transito/services.yaml:4:15", "${VENTANILLA_SAMPLE_URL}: the secrets of institution \"transito\" are environment variables starting with TRANSITO_"}},
		{"unset secret", map[string]string{"services.yaml": strings.Replace(servicesTransito, "TRANSITO_API_URL", "TRANSITO_API_HOST", 1)},
			nil, []string{"transito/services.yaml:4:", "TRANSITO_API_HOST"}},
		{"a call to the catalogue's service", map[string]string{"flows/transito-multas.yaml": flowFile("transito-multas", "buzon.ticket")},
			nil, []string{"transito/flows/transito-multas.yaml:11:14", `service "buzon.ticket" belongs to institution "ventanilla" (catalogue/services.yaml), which does not share it with "transito"`}},
		{"a call to another institution's service", map[string]string{"flows/transito-multas.yaml": flowFile("transito-multas", "municipio.predial")},
			other("municipio", map[string]string{
				"institution.yaml": otherManifest("municipio", "entries: {}\n"),
				"services.yaml":    "services:\n  municipio.predial: {kind: rest, base_url: \"${MUNICIPIO_API_URL}\", method: GET, path: /p}\n",
			}), []string{"transito/flows/transito-multas.yaml:11:14", `service "municipio.predial" belongs to institution "municipio" (`, `municipio/services.yaml), which does not share it with "transito"`}},
		{"a keyword claimed twice", nil,
			other("municipio", map[string]string{
				"institution.yaml":            otherManifest("municipio", "entries:\n  multas:\n    title: {es: Multas, en: Fines, qu: Multa}\n    category: municipios\n    keywords: [multa]\n    flow: municipio-multas\n"),
				"flows/municipio-multas.yaml": flowFile("municipio-multas", ""),
			}), []string{"transito/institution.yaml:8:15", "keyword MULTA is also claimed by", "municipio/institution.yaml (entry municipio/multas)"}},
		{"a short code claimed twice", nil,
			other("municipio", map[string]string{
				"institution.yaml":            otherManifest("municipio", "entries:\n  multas:\n    title: {es: Multas, en: Fines, qu: Multa}\n    category: municipios\n    short_code: \"*384*7#\"\n    flow: municipio-multas\n"),
				"flows/municipio-multas.yaml": flowFile("municipio-multas", ""),
			}), []string{"transito/institution.yaml:9:17", "short code *384*7# is also claimed by", "municipio/institution.yaml (entry municipio/multas)"}},
		{"a short code that is the gateway's whole code", map[string]string{"institution.yaml": strings.Replace(manifestTransito, `"*384*7#"`, `"*384#"`, 1)},
			nil, []string{"transito/institution.yaml:9:17", `short code "*384#" would take every dial of *384`, "such as *384*7#"}},
		{"a short code within another's", nil,
			other("municipio", map[string]string{
				"institution.yaml":            otherManifest("municipio", "entries:\n  multas:\n    title: {es: Multas, en: Fines, qu: Multa}\n    category: municipios\n    short_code: \"*384*7*1#\"\n    flow: municipio-multas\n"),
				"flows/municipio-multas.yaml": flowFile("municipio-multas", ""),
			}), []string{"transito/institution.yaml:9:17", "short code *384*7# is the start of *384*7*1#, claimed by", "municipio/institution.yaml (entry municipio/multas)"}},
		{"a category declared twice", map[string]string{"institution.yaml": manifestTransito + "categories:\n  transporte: {title: {es: Tránsito, en: Traffic, qu: Ñan}}\n"},
			nil, []string{"transito/institution.yaml:12:3", `category "transporte" is already declared in catalogue/institution.yaml`}},
		{"an institution id taken", nil,
			other("transito2", map[string]string{"institution.yaml": otherManifest("transito", "entries: {}\n")}),
			[]string{"transito2/institution.yaml:1:1", `institution "transito" is also the package`, "transito/institution.yaml)"}},
		{"a goto into another institution's flow", map[string]string{"flows/transito-otro.yaml": strings.Replace(flowFile("transito-otro", ""), "  done:\n    kind: end", "  go:\n    kind: goto\n    flow: turnos\n  done:\n    kind: end", 1)},
			nil, []string{"transito/flows/transito-otro.yaml:11:11", `flow "turnos" belongs to institution "ventanilla"`}},
		{"a template outside the namespace", map[string]string{"templates.yaml": "templates:\n  multa_lista:\n    es: \"Su multa {{numero}} está lista.\"\n"},
			nil, []string{"transito/templates.yaml:2:3", `template id "multa_lista": the templates of institution "transito" start with "transito_"`}},
		{"misspelt callback field", map[string]string{"institution.yaml": manifestTransito + "callback:\n  url: https://api.transito.example.gob.ec/cb\n  secret_evn: TRANSITO_CALLBACK_SECRET\n"},
			nil, []string{"transito/institution.yaml:13:3", `unknown field "secret_evn" (did you mean "secret_env"?)`}},
		{"callback without its secret", map[string]string{"institution.yaml": manifestTransito + "callback:\n  url: https://api.transito.example.gob.ec/cb\n"},
			nil, []string{"transito/institution.yaml:12:3", `callback needs "secret_env"`}},
		{"callback over plain http", map[string]string{"institution.yaml": manifestTransito + "callback:\n  url: http://api.transito.example.gob.ec/cb\n  secret_env: TRANSITO_CALLBACK_SECRET\n"},
			nil, []string{"transito/institution.yaml:12:8", "callbacks go over https; http only to a loopback host"}},
		{"callback URL malformed", map[string]string{"institution.yaml": manifestTransito + "callback:\n  url: api.transito.example.gob.ec/cb\n  secret_env: TRANSITO_CALLBACK_SECRET\n"},
			nil, []string{"transito/institution.yaml:12:8", "is not an absolute URL"}},
		{"callback secret written in the manifest", map[string]string{"institution.yaml": manifestTransito + "callback:\n  url: https://api.transito.example.gob.ec/cb\n  secret_env: s3cr3t-v4lue\n"},
			nil, []string{"transito/institution.yaml:13:15", "is not the name of an environment variable"}},
		{"callback secret unset", map[string]string{"institution.yaml": manifestTransito + "callback:\n  url: https://api.transito.example.gob.ec/cb\n  secret_env: TRANSITO_CB_KEY\n"},
			nil, []string{"transito/institution.yaml:13:15", "TRANSITO_CB_KEY is not set"}},
		{"callback secret outside the prefix", map[string]string{"institution.yaml": manifestTransito + "callback:\n  url: https://api.transito.example.gob.ec/cb\n  secret_env: MUNICIPIO_CALLBACK_SECRET\n"},
			nil, []string{"transito/institution.yaml:13:15", `the secrets of institution "transito" are environment variables starting with TRANSITO_`}},
		{"callback secret too short", map[string]string{"institution.yaml": manifestTransito + "callback:\n  url: https://api.transito.example.gob.ec/cb\n  secret_env: TRANSITO_WEAK_SECRET\n"},
			nil, []string{"transito/institution.yaml:13:15", "TRANSITO_WEAK_SECRET has 7 bytes; a signing secret needs at least 32"}},
		{"keywords on USSD alone", map[string]string{"institution.yaml": manifestTransito + "    channels: [ussd]\n"},
			nil, []string{"transito/institution.yaml:8:15", "keywords open the entry by SMS and chat, but it is offered only on ussd"}},
		{"a short code without USSD", map[string]string{"institution.yaml": manifestTransito + "    channels: [sms, telegram]\n"},
			nil, []string{"transito/institution.yaml:9:17", "a short code is dialled on USSD, but the entry is offered only on sms, telegram"}},
		{"a draft without testers", map[string]string{"institution.yaml": manifestTransito + "    draft: true\n"},
			nil, []string{"transito/institution.yaml:5:3", "a draft, but the manifest lists no testers"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			transito(t, root, tc.changes)
			if tc.more != nil {
				tc.more(t, root)
			}
			set, ps := compose(t, root)
			if !ps.HasErrors() {
				_, lps := load(t, set)
				ps = append(ps, lps...)
			}
			wantProblem(t, ps, tc.want...)
		})
	}
}

// A service shared by its owner may be called by the institution it is
// shared with, and only by it.
func TestSharedService(t *testing.T) {
	root := t.TempDir()
	transito(t, root, map[string]string{"institution.yaml": manifestTransito + "shares:\n  transito.multas: [municipio]\n"})
	write(t, filepath.Join(root, "municipio"), map[string]string{
		"institution.yaml":            "institution: municipio\nname: {es: Municipio, en: City, qu: Llakta}\ncontact: {url: https://municipio.example.gob.ec}\nentries: {}\n",
		"flows/municipio-multas.yaml": flowFile("municipio-multas", "transito.multas"),
	})
	write(t, filepath.Join(root, "registro"), map[string]string{
		"institution.yaml":           "institution: registro\nname: {es: Registro, en: Registry, qu: Registro}\ncontact: {url: https://registro.example.gob.ec}\nentries: {}\n",
		"flows/registro-multas.yaml": flowFile("registro-multas", "transito.multas"),
	})
	_, ps := compose(t, root)
	var errs []string
	for _, p := range ps {
		if p.Severity == flows.Error {
			errs = append(errs, p.String())
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "registro/flows/registro-multas.yaml") || !strings.Contains(errs[0], `does not share it with "registro"`) {
		t.Errorf("want the one call of registro refused, got:\n%s", strings.Join(errs, "\n"))
	}
}

// A folder of too many files, or one big file, is refused before it is
// read, with what is wrong.
func TestBounds(t *testing.T) {
	t.Run("too many files", func(t *testing.T) {
		dir := transito(t, t.TempDir(), nil)
		for i := 0; i < institution.MaxFiles; i++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.txt", i)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err := institution.ReadDir(context.Background(), dir)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d files", institution.MaxFiles)) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a 50 MB file", func(t *testing.T) {
		dir := transito(t, t.TempDir(), nil)
		f, err := os.Create(filepath.Join(dir, "flows", "huge.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(50 << 20); err != nil {
			t.Fatal(err)
		}
		f.Close()
		_, _, err = institution.ReadDir(context.Background(), dir)
		if err == nil || !strings.Contains(err.Error(), "huge.yaml: 52428800 bytes; a file of a package may have at most") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a link out of the package", func(t *testing.T) {
		root := t.TempDir()
		secret := filepath.Join(root, "secret.yaml")
		write(t, root, map[string]string{"secret.yaml": "password: hunter2\n"})
		for _, name := range []string{"flows/x.yaml", "services.yaml", "institution.yaml"} {
			dir := transito(t, filepath.Join(root, strings.ReplaceAll(name, "/", "-")), nil)
			os.Remove(filepath.Join(dir, name))
			if err := os.Symlink(secret, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			_, ps, err := institution.ReadDir(context.Background(), dir)
			if err == nil || !strings.Contains(err.Error(), name+" links to") || !strings.Contains(err.Error(), "outside the package") || strings.Contains(fmt.Sprint(err, ps), "hunter2") {
				t.Errorf("%s: got %v %s", name, err, ps)
			}
		}
	})
	t.Run("links within the package", func(t *testing.T) {
		// A Kubernetes ConfigMap mounts its files as links into a
		// hidden folder of the same volume.
		dir := transito(t, t.TempDir(), nil)
		if err := os.Rename(filepath.Join(dir, "institution.yaml"), filepath.Join(dir, "..data-institution.yaml")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("..data-institution.yaml", filepath.Join(dir, "institution.yaml")); err != nil {
			t.Fatal(err)
		}
		// The package folder itself may be a link to a release.
		link := filepath.Join(t.TempDir(), "transito")
		if err := os.Symlink(dir, link); err != nil {
			t.Fatal(err)
		}
		p, ps, err := institution.ReadDir(context.Background(), link)
		if err != nil || ps.HasErrors() || p.ID() != "transito" {
			t.Errorf("got %v %s", err, ps)
		}
	})
	t.Run("a manifest that is a folder", func(t *testing.T) {
		root := t.TempDir()
		dir := transito(t, root, nil)
		os.Remove(filepath.Join(dir, "institution.yaml"))
		write(t, dir, map[string]string{"institution.yaml/x.yaml": "institution: transito\n"})
		_, _, err := institution.ReadAll(context.Background(), []string{dir})
		if err == nil || !strings.Contains(err.Error(), "institution.yaml is a folder; the manifest is a file") {
			t.Errorf("the package: got %v", err)
		}
		_, _, err = institution.ReadAll(context.Background(), []string{root})
		if err == nil || !strings.Contains(err.Error(), "institution.yaml is a folder; the manifest is a file") {
			t.Errorf("the folder of packages: got %v", err)
		}
	})
	t.Run("no manifest", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, map[string]string{"flows/x.yaml": "id: x\n"})
		_, _, err := institution.ReadDir(context.Background(), dir)
		if err == nil || !strings.Contains(err.Error(), "no institution.yaml") {
			t.Errorf("got %v", err)
		}
	})
}

// The manifest reference is generated from the decoder's description.
func TestReferenceNamesEveryField(t *testing.T) {
	ref := institution.Reference()
	for _, f := range institution.ManifestFields {
		if !strings.Contains(ref, "`"+f.Name+"`") {
			t.Errorf("reference misses %s", f.Name)
		}
		for _, sub := range f.Fields {
			if !strings.Contains(ref, "`"+sub.Name+"`") {
				t.Errorf("reference misses %s.%s", f.Name, sub.Name)
			}
		}
	}
}

// A flow file that does not parse has its errors there; the entry that
// opens it is not also told that no such flow exists.
func TestUnparsableFlowIsNotAMissingOne(t *testing.T) {
	root := t.TempDir()
	transito(t, root, map[string]string{"flows/transito-multas.yaml": flowFile("transito-multas", "transito.multas") + "  \xff\xfe\n"})
	set, ps := compose(t, root)
	_, lps := load(t, set)
	ps = append(ps, lps...)
	wantProblem(t, ps, "transito/flows/transito-multas.yaml:")
	for _, p := range ps {
		if p.Code == "unknown-flow" {
			t.Errorf("the entry is told its flow is missing: %s", p)
		}
	}
}

// A manifest the package cannot be named from — text where fields belong,
// or no institution id — is the package's one problem: its flows and
// services are not also told they are outside an institution "".
func TestUnnamedPackageIsOneProblem(t *testing.T) {
	long := strings.Repeat("oficinas ", 200)
	cases := []struct{ name, manifest, want string }{
		{"text", long + "\n", "transito/institution.yaml:1:1"},
		{"a list", "- transito\n- multas\n", "transito/institution.yaml:1:1"},
		{"no id", strings.Replace(manifestTransito, "institution: transito\n", "", 1), `the manifest needs "institution"`},
		{"bad id", strings.Replace(manifestTransito, "institution: transito\n", "institution: Tránsito\n", 1), `institution id "Tránsito"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			transito(t, root, map[string]string{"institution.yaml": tc.manifest})
			_, ps := compose(t, root)
			wantProblem(t, ps, tc.want)
			if len(ps) != 1 {
				t.Errorf("want one problem, got %d:\n%s", len(ps), ps)
			}
			for _, p := range ps {
				if len(p.Message) > 200 {
					t.Errorf("the problem quotes the whole file (%d bytes): %.200s…", len(p.Message), p.Message)
				}
			}
		})
	}
}

// A package's flows are its institution's: a flow naming another in its
// institution field (a display name, a typo) gets a warning at that
// field, with the package's id; one naming the id gets none.
func TestFlowInstitutionIsThePackages(t *testing.T) {
	flow := strings.Replace(flowFile("transito-multas", "transito.multas"), "institution: Test", "institution: Agencia de tránsito", 1)
	root := t.TempDir()
	transito(t, root, map[string]string{"flows/transito-multas.yaml": flow})
	_, ps := compose(t, root)
	want := `transito/flows/transito-multas.yaml:4:14: institution: warning: institution "Agencia de tránsito": the flows of a package are its institution's (did you mean "transito"?) [wrong-institution]`
	if !strings.Contains(problemLines(ps), want) {
		t.Errorf("no %s among:\n%s", want, ps)
	}
	root = t.TempDir()
	transito(t, root, map[string]string{"flows/transito-multas.yaml": strings.Replace(flow, "Agencia de tránsito", "transito", 1)})
	if _, ps := compose(t, root); strings.Contains(problemLines(ps), "wrong-institution") {
		t.Errorf("a flow of the package's own institution: %s", ps)
	}
}

// problemLines is every problem, warnings too, a line each.
func problemLines(ps flows.Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}
