package main

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
)

// copyCatalogue writes the catalogue's flow files into a directory the
// test can edit.
func copyCatalogue(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, src := range catalogue.Sources() {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(src.Name)), src.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func reload(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/admin/reload", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A reload validates first and swaps atomically: new conversations get the
// new version, conversations in flight finish on theirs, and a broken file
// leaves the running flows in place.
func TestReloadThroughTheAdminEndpoint(t *testing.T) {
	dir := copyCatalogue(t)
	srv := gatewayFor(t, &config{FlowsDir: dir, AdminToken: "test-admin-token"})

	inflight := &dialer{t: t, url: srv.URL, session: "inflight", phone: "+593991000101"}
	inflight.send("")
	expect(t, inflight.send("1"), "Ventanilla ciudadana")

	if code, _ := reload(t, srv.URL, "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	inicio := filepath.Join(dir, "inicio.yaml")
	data, _ := os.ReadFile(inicio)
	// The composed menu's version is derived from its text; any other
	// number is a new version.
	v2 := strings.Replace(regexp.MustCompile(`\nversion: \d+`).ReplaceAllString(string(data), "\nversion: 2"), `es: "Ventanilla ciudadana"`, `es: "Ventanilla ciudadana (v2)"`, 1)
	os.WriteFile(inicio, []byte(v2), 0o644)
	if code, body := reload(t, srv.URL, "test-admin-token"); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	fresh := &dialer{t: t, url: srv.URL, session: "fresh", phone: "+593991000102"}
	fresh.send("")
	expect(t, fresh.send("1"), "Ventanilla ciudadana (v2)")
	// The conversation that started on version 1 goes on on version 1.
	expect(t, inflight.send("4"), "Bienvenido a Ventanilla")
	expect(t, inflight.send("1"), "Ventanilla ciudadana\n")

	os.WriteFile(inicio, []byte(strings.Replace(v2, "next: services", "next: servicse", 1)), 0o644)
	code, body := reload(t, srv.URL, "test-admin-token")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `inicio.yaml:`) || !strings.Contains(body, `unknown step "servicse"`) {
		t.Errorf("broken reload: %d %s", code, body)
	}
	again := &dialer{t: t, url: srv.URL, session: "again", phone: "+593991000103"}
	again.send("")
	expect(t, again.send("1"), "Ventanilla ciudadana (v2)")
}

func TestMetricsHealthAndReadiness(t *testing.T) {
	srv := gatewayFor(t, &config{})
	d := &dialer{t: t, url: srv.URL, session: "m", phone: "+593991000104"}
	d.send("")
	d.send("1")
	if code, body := get(t, srv.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", code, body)
	}
	if code, _ := get(t, srv.URL+"/readyz"); code != 200 {
		t.Errorf("readyz: %d", code)
	}
	_, body := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`ventanilla_hops_total{carrier="africastalking",flow="inicio",institution="ventanilla",outcome="continue"} 2`,
		`ventanilla_flow_steps_total{event="completed",flow="inicio",institution="ventanilla",step="language"} 1`,
		`ventanilla_hop_duration_seconds_count{carrier="africastalking",institution="ventanilla"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, _ := reload(t, srv.URL, ""); code != http.StatusNotFound {
		t.Errorf("admin without a configured token should not exist: %d", code)
	}
}

// In production mode the process refuses to start without its secrets and
// names each one missing.
func TestProductionNeedsSecrets(t *testing.T) {
	_, err := newApp(&config{Production: true, Root: "inicio"}, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func(string) (string, bool) { return "", false }, nil)
	if err == nil {
		t.Fatal("started without secrets")
	}
	for _, want := range []string{"VENTANILLA_ADMIN_TOKEN", "VENTANILLA_PSEUDONYM_KEY", "VENTANILLA_CARRIERS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

// Every environment variable the binary reads is in docs/operations.md's
// tables, with its flag where it has one, and the tables name no variable
// the binary does not read. The code's list is taken from the source: each
// literal name passed to getenv, get, a.getenv, a carrier's b.get,
// os.Getenv or os.LookupEnv, the variables without a flag (envOnly), the
// variables the carriers declare, and every flag's VENTANILLA_*.
func TestEveryVariableIsDocumented(t *testing.T) {
	read := map[string]bool{}
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			name := ""
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				name = fn.Name
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); ok {
					name = x.Name + "." + fn.Sel.Name
				}
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			switch name {
			case "getenv", "get", "a.getenv", "b.get", "os.Getenv", "os.LookupEnv":
				v, _ := strconv.Unquote(lit.Value)
				read[v] = true
			}
			return true
		})
	}
	if len(read) < 10 {
		t.Fatalf("found only %v in the source: the scan is broken", read)
	}
	// The misspelt-variable check knows a variable only through envOnly
	// and the flags: each VENTANILLA_* name the code reads must be there.
	flagVars := map[string]bool{}
	flagSet("serve", io.Discard, &config{}).VisitAll(func(f *flag.Flag) { flagVars[envName(f.Name)] = true })
	for v := range read {
		if short, ok := strings.CutPrefix(v, envPrefix); ok && !flagVars[v] && !slices.Contains(envOnly, short) {
			t.Errorf("%s is read but not in envOnly: a misspelling of it would pass unnoticed", v)
		}
	}
	read["GOGC"] = true // read by internal/gctune through serve's getenv
	for _, c := range registry {
		for _, v := range c.env {
			read[v.name] = true
		}
	}
	for _, v := range envOnly {
		read[envPrefix+v] = true
	}
	flagOf := map[string]string{}
	flagSet("serve", io.Discard, &config{}).VisitAll(func(f *flag.Flag) {
		read[envName(f.Name)] = true
		flagOf[envName(f.Name)] = "--" + f.Name
	})

	data, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	config := doc[strings.Index(doc, "## Configuration"):strings.Index(doc, "## Carriers file")]
	documented := map[string]string{} // variable → its table row
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]{2,})`")
	for _, line := range strings.Split(config, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(line, "|")
		cols := cells[1]
		if len(cells) > 3 && strings.HasPrefix(strings.TrimSpace(cells[1]), "`--") {
			cols = cells[2] // flags' table: the variable column
		}
		for _, m := range name.FindAllStringSubmatch(cols, -1) {
			documented[m[1]] = line
		}
	}
	for v := range read {
		row, ok := documented[v]
		switch {
		case !ok:
			t.Errorf("%s is read by the binary but not in docs/operations.md's configuration tables", v)
		case flagOf[v] != "" && !strings.Contains(row, "`"+flagOf[v]+"`"):
			t.Errorf("%s's row does not name its flag %s: %s", v, flagOf[v], row)
		}
	}
	for v := range documented {
		if !read[v] {
			t.Errorf("docs/operations.md documents %s, which the binary does not read", v)
		}
	}
}

// The admin endpoint reads its bearer token as the notifications API does:
// the scheme is case-insensitive (RFC 7235). It used to refuse "bearer".
func TestAdminBearerSchemeIsCaseInsensitive(t *testing.T) {
	const token = "0f4c6a8e2b1d3f5a7c9e0b2d4f6a8c1e"
	srv := gatewayFor(t, &config{AdminToken: token})
	for _, header := range []string{"Bearer " + token, "bearer " + token, "BEARER  " + token} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/admin/reload", nil)
		req.Header.Set("Authorization", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%q: %d, want 200", header, resp.StatusCode)
		}
	}
	for _, header := range []string{"Basic " + token, "Bearer " + token + "x", token} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/admin/reload", nil)
		req.Header.Set("Authorization", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%q: %d, want 401", header, resp.StatusCode)
		}
	}
}

func TestTokenBits(t *testing.T) {
	tests := []struct {
		token  string
		strong bool
	}{
		{"x", false},
		{"test-admin-token", false},
		{strings.Repeat("k", 40), false},                   // one character, however long
		{strings.Repeat("ab", 40), false},                  // two
		{"rc-token-0123456789", false},                     // 19 characters of base64url: 114 bits
		{"0f4c6a8e2b1d3f5a7c9e0b2d4f6a8c1e", true},         // openssl rand -hex 16: 128 bits
		{"3q2+7wAAAAB4yN1mZ0xkQ3VhTnd5WHJx", true},         // openssl rand -base64 24
		{"Zk3n_Qp8-Lw2Rt6Yv9Xa1Cb4", true},                 // 24 characters of base64url: 144 bits
		{"1234567890123456789012345678901234567890", true}, // 40 digits: 133 bits
	}
	for _, tt := range tests {
		if got := tokenBits(tt.token) >= minTokenBits; got != tt.strong {
			t.Errorf("tokenBits(%q) = %.0f: strong %v, want %v", tt.token, tokenBits(tt.token), got, tt.strong)
		}
	}
}

// Production mode refuses a gateway whose callbacks anyone may call, or
// whose secrets could be guessed, naming each one. It used to start with
// `carriers: {}` (every callback open, /ussd/kannel included) and a
// one-character admin token.
func TestProductionRefusesOpenCallbacksAndWeakTokens(t *testing.T) {
	backend := httptest.NewServer(sample.New(sample.Options{}))
	defer backend.Close()
	dir := t.TempDir()
	templates := writeFile(t, "templates.yaml", "templates:\n  listo:\n    es: \"Su trámite está listo.\"\n")
	strong := map[string]string{
		"VENTANILLA_SAMPLE_URL":    backend.URL,
		"VENTANILLA_PSEUDONYM_KEY": strings.Repeat("p", 8) + "0f4c6a8e2b1d3f5a7c9e0b2d4f6a8c1e",
		"KANNEL_SENDSMS_URL":       "http://127.0.0.1:1/cgi-bin/sendsms",
		"AT_CALLBACK_PASSWORD":     "7c9e0b2d4f6a8c1e0f4c6a8e2b1d3f5a",
		"KANNEL_CALLBACK_TOKEN":    "b2d4f6a8c1e0f4c6a8e2b1d3f5a7c9e0",
		"VENTANILLA_NOTIFY_TOKENS": "registro_civil=e0f4c6a8e2b1d3f5a7c9e0b2d4f6a8c1",
	}
	start := func(env map[string]string, carriersFile, admin string) error {
		getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		c := &config{Production: true, Root: "inicio", AuditDir: dir, Carriers: carriersFile, AdminToken: admin, NotifyTemplates: templates}
		a, err := newApp(c, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
		if err == nil {
			a.outbound.close(t.Context())
			a.store.Close()
		}
		return err
	}

	weak := maps.Clone(strong)
	weak["KANNEL_CALLBACK_TOKEN"] = strings.Repeat("a", 20)
	weak["VENTANILLA_NOTIFY_TOKENS"] = "registro_civil=rc-token-0123456789"
	err := start(weak, writeFile(t, "open.yaml", `carriers:
  africastalking: {allow_ips: [196.201.214.0/24]}
  kannel-ussd: {path_token_env: KANNEL_CALLBACK_TOKEN}
`), "x")
	if err == nil {
		t.Fatal("started with open callbacks and weak tokens")
	}
	for _, want := range []string{
		"carrier hubtel has no callback authentication", "carrier nalo has no", "carrier generic has no", "carrier kannel-sms has no",
		"VENTANILLA_ADMIN_TOKEN has about 5 bits of entropy, production needs 128",
		"KANNEL_CALLBACK_TOKEN (path_token_env of kannel-ussd) has about 0 bits",
		"VENTANILLA_NOTIFY_TOKENS (registro_civil) has about 114 bits",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "carrier africastalking ") || strings.Contains(err.Error(), "carrier kannel-ussd ") {
		t.Errorf("refusal names a carrier that is protected:\n%v", err)
	}

	if err := start(strong, writeFile(t, "closed.yaml", `carriers:
  africastalking: {allow_ips: [196.201.214.0/24]}
  hubtel: {basic_user: hubtel, basic_password_env: AT_CALLBACK_PASSWORD}
  nalo: {disabled: true}
  generic: {disabled: true}
  kannel-ussd: {path_token_env: KANNEL_CALLBACK_TOKEN, allow_ips: [10.0.0.5]}
  kannel-sms: {allow_ips: [10.0.0.5]}
`), "0f4c6a8e2b1d3f5a7c9e0b2d4f6a8c1e"); err != nil {
		t.Errorf("a production configuration was refused: %v", err)
	}
}
