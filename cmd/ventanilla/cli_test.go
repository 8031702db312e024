package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestLintCatalogueIsClean(t *testing.T) {
	t.Setenv("KANNEL_SENDSMS_URL", "http://127.0.0.1:13013/cgi-bin/sendsms") // as deployed: late results go by SMS
	code, out, errs := runCLI(t, "", "flows", "lint", "--strict")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "5 flows, 0 errors, 0 warnings") {
		t.Errorf("summary: %q", out)
	}
}

func TestLintBrokenFile(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("spec_version: 1\nid: broken\nversion: 1\ninstitution: X\ntitle: {es: B}\nlocales: [es]\nstart: a\nsteps:\n  a:\n    kind: message\n    text: {es: hola}\n    next: confrim\n"), 0o644)
	code, out, _ := runCLI(t, "", "flows", "lint", broken)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := broken + `:12:11: steps.a.next: error: unknown step "confrim" [dangling-next]`
	if !strings.Contains(out, want) {
		t.Errorf("output lacks\n  %s\ngot\n%s", want, out)
	}

	warn := filepath.Join(dir, "warn.yaml")
	os.WriteFile(warn, []byte("spec_version: 1\nid: warn\nversion: 1\ninstitution: X\ntitle: {es: W, en: W}\nlocales: [es, en]\nstart: a\nsteps:\n  a:\n    kind: end\n    text: {es: hola}\n"), 0o644)
	if code, out, _ := runCLI(t, "", "flows", "lint", warn); code != 0 || !strings.Contains(out, "warning: no en text") {
		t.Errorf("warnings only: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "", "flows", "lint", "--strict", warn); code != 1 {
		t.Errorf("--strict with warnings: exit %d, want 1", code)
	}
}

func TestFlowsTestRunsTheCatalogueTranscripts(t *testing.T) {
	code, out, errs := runCLI(t, "", "flows", "test", "../../testdata/conversations")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, " passed, 0 failed") {
		t.Errorf("summary: %q", out)
	}
}

// flows test needs no back-end addresses or secrets: mocks stand in for
// the services, whose ${VARS} may be unset. A misspelt outcome fails the
// transcript at its line and column.
func TestFlowsTestMocksStandInForServices(t *testing.T) {
	dir := t.TempDir()
	catalogueServices, err := os.ReadFile("../../flows/catalogue/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	services := strings.ReplaceAll(string(catalogueServices), "VENTANILLA_SAMPLE_URL", "INSTITUTION_URL_NOT_SET")
	transcript := `start: estado-tramite
locale: es
mocks:
  tramites.status:
    - {outcome: %s, body: {number: "1002", status: ready}}
hops:
  - send: ""
    screen: "Escriba el número de su trámite:"
  - send: "1002"
    screen: "Trámite 1002: listo. Puede retirarlo con su cédula.\n¿Cómo fue su atención? 1 (mala) a 5 (excelente)"
  - send: "9"
    screen: "Gracias."
    end: true
`
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	svc := write("services.yaml", services)
	good := write("good.yaml", fmt.Sprintf(transcript, "ok"))
	if code, out, errs := runCLI(t, "", "flows", "test", "--services", svc, good); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	bad := write("bad.yaml", fmt.Sprintf(transcript, "slow"))
	code, out, errs := runCLI(t, "", "flows", "test", "--services", svc, bad)
	if want := `bad.yaml:5:17: mocks.tramites.status.0.outcome: unknown outcome "slow"`; code != 1 || !strings.Contains(out, want) {
		t.Fatalf("exit %d, want 1 and %q\n%s%s", code, want, out, errs)
	}
}

func TestGraph(t *testing.T) {
	code, out, errs := runCLI(t, "", "flows", "graph", "turnos")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	for _, want := range []string{"stateDiagram-v2", "book_cedula --> confirm: valid", "pick_office --> load_slots: selected"} {
		if !strings.Contains(out, want) {
			t.Errorf("graph lacks %q:\n%s", want, out)
		}
	}
}

func TestSimulateShowsThePhoneScreen(t *testing.T) {
	code, out, errs := runCLI(t, "2\n2\n", "simulate")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	for _, want := range []string{"│Bienvenido a Ventanilla. Elija  │", "│Citizen services", "│2. Procedure status", "│Type your procedure number:"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
}

func TestBadUsage(t *testing.T) {
	if code, _, _ := runCLI(t, "", "fly"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, _, errs := runCLI(t, "", "serve", "--nav", "0,0,98"); code != 1 || !strings.Contains(errs, "--nav") {
		t.Errorf("duplicate nav keys: exit %d %s", code, errs)
	}
}

// runServe runs `ventanilla serve` with a context already cancelled: a
// configuration the gateway accepts starts, listens and stops at once
// (exit 0); one it refuses never gets that far.
func runServe(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), &out, &errb)
	return code, errb.String()
}

// A misspelt carrier, key or value in the carriers file, the environment
// or a flag stops the start, naming it, saying what is wrong and, for
// names, which one was probably meant. A misspelt carrier used to be
// accepted while the real one ran with no callback authentication.
func TestMisconfigurationStopsTheStart(t *testing.T) {
	carriersFile := func(body string) string {
		path := filepath.Join(t.TempDir(), "carriers.yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{name: "misspelt carrier",
			args: []string{"--carriers", carriersFile("carriers:\n  africastalkin:\n    allow_ips: [196.201.214.0/24]\n")},
			want: []string{"carriers.yaml:2:3: carriers.africastalkin: unknown carrier \"africastalkin\" (did you mean \"africastalking\"?)"}},
		{name: "misspelt key",
			args: []string{"--carriers", carriersFile("carriers:\n  hubtel:\n    budegt: 10s\n")},
			want: []string{"carriers.yaml:3:5: carriers.hubtel.budegt: unknown key \"budegt\" (did you mean \"budget\"?)"}},
		{name: "misspelt top-level key",
			args: []string{"--carriers", carriersFile("carrier:\n  hubtel: {}\n")},
			want: []string{"carriers.yaml:1:1: carrier: unknown key \"carrier\" (did you mean \"carriers\"?)"}},
		{name: "budget without a unit",
			args: []string{"--carriers", carriersFile("carriers:\n  nalo:\n    budget: 10\n")},
			want: []string{"carriers.yaml:3:13: carriers.nalo.budget: \"10\" is not a positive duration"}},
		{name: "disabled: yes",
			args: []string{"--carriers", carriersFile("carriers:\n  nalo:\n    disabled: yes\n")},
			want: []string{"carriers.nalo.disabled: \"yes\" is not true or false"}},
		{name: "screen limit of an SMS carrier",
			args: []string{"--carriers", carriersFile("carriers:\n  twilio:\n    limit: 160\n")},
			want: []string{"carriers.twilio.limit: this carrier has no screen limit"}},
		{name: "every problem at once",
			args: []string{"--carriers", carriersFile("carriers:\n  hubtl: {}\n  nalo:\n    limt: 100\n")},
			want: []string{"unknown carrier \"hubtl\" (did you mean \"hubtel\"?)", "unknown key \"limt\" (did you mean \"limit\"?)"}},
		{name: "merge key, read as in every YAML file",
			args: []string{"--carriers", carriersFile("carriers:\n  nalo: &n\n    budget: 10\n  hubtel:\n    <<: *n\n")},
			want: []string{"carriers.yaml:3:13: carriers.nalo.budget: \"10\" is not a positive duration", "carriers.yaml:5:5: carriers.hubtel: merge keys (<<) are not supported: write the fields out"}},
		{name: "duration without a unit",
			env:  map[string]string{"VENTANILLA_HOP_BUDGET": "10"},
			want: []string{`VENTANILLA_HOP_BUDGET="10": want a duration with its unit`}},
		{name: "boolean that is not one",
			env:  map[string]string{"VENTANILLA_SHARED_LIMITS": "yes"},
			want: []string{`VENTANILLA_SHARED_LIMITS="yes": want true or false`}},
		{name: "whole number that is not one",
			env:  map[string]string{"VENTANILLA_LIMIT_PHONE": "30/min"},
			want: []string{`VENTANILLA_LIMIT_PHONE="30/min": want a whole number`}},
		{name: "misspelt variable",
			env:  map[string]string{"VENTANILLA_HOP_BUGDET": "5s"},
			want: []string{"VENTANILLA_HOP_BUGDET: not a variable of ventanilla (did you mean VENTANILLA_HOP_BUDGET?)"}},
		{name: "misspelt log format",
			args: []string{"--log-format", "jsno"},
			want: []string{`--log-format "jsno": want text or json (did you mean "json"?)`}},
		{name: "misspelt flag",
			args: []string{"--hop-budgte", "5s"},
			want: []string{"flag provided but not defined: -hop-budgte", "did you mean --hop-budget?"}},
		{name: "misspelt carrier in --outbound-rates",
			env:  map[string]string{"VENTANILLA_OUTBOUND_RATES": "twilo=1"},
			want: []string{`--outbound-rates: unknown sender "twilo" (did you mean "twilio"?)`}},
		{name: "misspelt carrier in --notify-carriers",
			args: []string{"--notify-carriers", "sms=kannel-smss"},
			want: []string{`--notify-carriers: sms=kannel-smss: unknown sender "kannel-smss" (did you mean "kannel-sms"?)`}},
		{name: "misspelt carrier variable",
			env:  map[string]string{"TWILIO_AUTH_TOKNE": "twilioauthtoken0123456789abcdef0"},
			want: []string{"TWILIO_AUTH_TOKNE: not a variable of ventanilla (did you mean TWILIO_AUTH_TOKEN?)"}},
		{name: "zero budget",
			args: []string{"--hop-budget", "0s"},
			want: []string{"--hop-budget 0s: want a positive duration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, errs := runServe(t, tt.env, tt.args...)
			if code == 0 {
				t.Fatalf("started; stderr:\n%s", errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks\n  %s\ngot\n%s", w, errs)
				}
			}
		})
	}
}

// A variable the carriers file names is the operator's own, however close
// to a carrier's it is.
func TestCarriersFileVariablesAreNoTypos(t *testing.T) {
	path := filepath.Join(t.TempDir(), "carriers.yaml")
	os.WriteFile(path, []byte("carriers:\n  kannel-sms:\n    basic_user: kannel\n    basic_password_env: KANNEL_PASSWORD2\n"), 0o644)
	code, errs := runServe(t, map[string]string{"KANNEL_PASSWORD2": "kannel-callback-password"}, "--carriers", path)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
}

// The same settings, well written, start.
func TestWellFormedConfigurationStarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "carriers.yaml")
	os.WriteFile(path, []byte("carriers:\n  africastalking:\n    limit: 160\n    budget: 10s\n    allow_ips: [196.201.214.0/24, 127.0.0.1]\n  hubtel:\n    disabled: true\n  twilio:\n    budget: 12s\n"), 0o644)
	code, errs := runServe(t, map[string]string{"VENTANILLA_HOP_BUDGET": "10s", "VENTANILLA_SHARED_LIMITS": "false", "VENTANILLA_PRODUCTION": "0"}, "--carriers", path, "--log-format", "json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
}

// serve says at start what is on and what is not: each carrier, and the
// pseudonym key when it is missing (the key pseudonymiser was built before
// the logger, and its warning used to go nowhere).
func TestServeLogsWhatIsOn(t *testing.T) {
	t.Setenv("VENTANILLA_PSEUDONYM_KEY", "")
	code, errs := runServe(t, nil)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
	for _, want := range []string{
		`level=WARN msg="VENTANILLA_PSEUDONYM_KEY is not set`,
		`msg="carrier on" carrier=africastalking callback_auth=none`,
		`msg="carrier on" carrier=kannel-ussd callback_auth=none`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("start log lacks %s:\n%s", want, errs)
		}
	}
}

// `flows --help` lists the flows subcommands; an unknown one says which
// exist.
func TestFlowsHelp(t *testing.T) {
	for _, args := range [][]string{{"flows", "--help"}, {"flows", "-h"}, {"flows", "help"}} {
		code, out, errs := runCLI(t, "", args...)
		if code != 0 || !strings.Contains(out, "ventanilla flows lint") || !strings.Contains(out, "ventanilla flows graph") {
			t.Errorf("%q: exit %d\n%s%s", args, code, out, errs)
		}
	}
	code, _, errs := runCLI(t, "", "flows", "lnt")
	if code != 2 || !strings.Contains(errs, `unknown flows command "lnt" (did you mean "lint"?)`) {
		t.Errorf("flows lnt: exit %d\n%s", code, errs)
	}
}

// Flags may follow the positional arguments, as people type them.
func TestFlagsAfterArguments(t *testing.T) {
	code, out, errs := runCLI(t, "", "flows", "graph", "estado-tramite", "--flows", "../../flows/catalogue/flows")
	if code != 0 || !strings.Contains(out, "stateDiagram-v2") {
		t.Errorf("graph FLOW --flows DIR: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "", "flows", "lint", "../../flows/catalogue/flows/buzon.yaml", "--strict")
	if code != 0 || !strings.Contains(out, "1 flow, 0 errors, 0 warnings") {
		t.Errorf("lint FILE --strict: exit %d\n%s%s", code, out, errs)
	}
	// After --, everything is an argument.
	code, _, errs = runCLI(t, "", "flows", "graph", "--", "--flows")
	if code != 1 || !strings.Contains(errs, `unknown flow "--flows"`) {
		t.Errorf("graph -- --flows: exit %d\n%s", code, errs)
	}
}

// --keywords starting with + adds to the default keywords (and may
// redefine one) instead of replacing them all.
func TestKeywordsAddToTheDefaults(t *testing.T) {
	c := config{Keywords: "+MULTA=multas, ayuda=buzon"}
	kw, err := c.keywords()
	if err != nil {
		t.Fatal(err)
	}
	if kw["MULTA"].Flow != "multas" || kw["MENU"].Flow != "inicio" || !kw["SALIR"].Stop || kw["AYUDA"].Flow != "buzon" {
		t.Errorf("keywords %v", kw)
	}
	c = config{Keywords: "MULTA=multas"}
	if kw, _ = c.keywords(); len(kw) != 1 {
		t.Errorf("without +, the list replaces the defaults: %v", kw)
	}
}
