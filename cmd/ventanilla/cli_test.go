package main

import (
	"bytes"
	"context"
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
	code, out, errs := runCLI(t, "", "flows", "lint", "--strict")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "4 flows, 0 errors, 0 warnings") {
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
