package flowtest_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/flowtest"
	"github.com/ventanilla-gob/ventanilla/interop"
)

var update = flag.Bool("update", false, "rewrite the transcripts' expected screens")

func measure(s *flows.Screen) int { return len([]rune(ussd.Paginate(s, 1<<20)[0])) }

// The catalogue's golden conversations, the same files `ventanilla flows
// test` runs.
func TestCatalogueConversations(t *testing.T) {
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	reg, problems := flows.Load(catalogue.Sources(), flows.Env{Messages: msgs, Measure: measure})
	if problems.HasErrors() {
		t.Fatal(problems)
	}
	files, _ := filepath.Glob("../../testdata/conversations/*.yaml")
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	r := &flowtest.Runner{Flows: reg, Messages: msgs, Root: "inicio"}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tr, err := flowtest.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, fails, err := r.Run(context.Background(), tr)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := flowtest.Update(f, got); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, fl := range fails {
				t.Error(fl.String())
			}
		})
	}
}

// A misspelt key in a transcript stops it where it is written, with the
// key meant, the way every YAML file of the project reports problems.
func TestReadFileNamesAMisspeltKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(path, []byte("name: x\nhops:\n  - send: \"1\"\n    scren: Hola\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := flowtest.ReadFile(path)
	if want := path + `:4:5: hops.0.scren: unknown field "scren" (did you mean "screen"?)`; err == nil || err.Error() != want {
		t.Errorf("ReadFile: %v\nwant %s", err, want)
	}
}

func writeTranscript(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Mocks are strict: a misspelt outcome or field is an error at its line
// and column that lists what is valid, never a silent "error" outcome.
func TestTranscriptStrict(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"unknown outcome", "start: estado-tramite\nmocks:\n  tramites.status:\n    - outcome: slow\nhops: []\n",
			[]string{"t.yaml:4:16: mocks.tramites.status.0.outcome: unknown outcome \"slow\"", "ok, not_found, rejected, error, timeout, unavailable"}},
		{"misspelt outcome", "mocks:\n  tramites.status:\n    - outcome: not_fuond\n",
			[]string{"t.yaml:3:16:", `did you mean "not_found"?`}},
		{"unknown mock field", "mocks:\n  tramites.status:\n    - dealy: 6s\n",
			[]string{"t.yaml:3:7: mocks.tramites.status.0.dealy:", `unknown field "dealy" (did you mean "delay"?)`}},
		{"bad delay", "mocks:\n  tramites.status:\n    - delay: soon\n",
			[]string{"t.yaml:3:14:", "delay must be a duration"}},
		{"unknown hop field", "hops:\n  - send: x\n    screem: y\n",
			[]string{"t.yaml:3:5: hops.0.screem:", `did you mean "screen"?`}},
		{"unknown top field", "mock: {}\n",
			[]string{"t.yaml:1:1:", `did you mean "mocks"?`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flowtest.ReadFile(writeTranscript(t, tc.text))
			if err == nil {
				t.Fatal("read without error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// catalogueRunner runs transcripts against the catalogue's flows, or
// against srcs when given.
func catalogueRunner(t *testing.T, srcs ...flows.Source) *flowtest.Runner {
	t.Helper()
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	if srcs == nil {
		srcs = catalogue.Sources()
	}
	reg, problems := flows.Load(srcs, flows.Env{Messages: msgs, Measure: measure})
	if problems.HasErrors() {
		t.Fatal(problems)
	}
	return &flowtest.Runner{Flows: reg, Messages: msgs, Root: "inicio"}
}

type calls []string

func (c *calls) StepReached(string, string)   {}
func (c *calls) StepCompleted(string, string) {}
func (c *calls) Call(service, outcome string, d time.Duration) {
	*c = append(*c, fmt.Sprintf("%s %s %v", service, outcome, d))
}

// A slow mock runs on the transcript's clock: a back-end that takes 6 s
// outlasts the hop's 4 s budget, one that takes 3 s the service's 2 s
// timeout, and the call ends in timeout (here routed to the flow's error
// step) without the test waiting; one that takes 1 s answers.
func TestSlowMock(t *testing.T) {
	r := catalogueRunner(t)
	r.Timeout = func(service string) time.Duration {
		if service == "tramites.status" {
			return 2 * time.Second
		}
		return 0
	}
	const text = `start: estado-tramite
locale: es
mocks:
  tramites.status:
    - {delay: %s, body: {number: "1002", status: ready}}
hops:
  - send: ""
    screen: "Escriba el número de su trámite:"
  - send: "1002"
    screen: %q
    end: %v
`
	// The status comes above the satisfaction question; a failure ends.
	const ready, failed = "Trámite 1002: listo. Puede retirarlo con su cédula.\n¿Cómo fue su atención? 1 (mala) a 5 (excelente)", "Ocurrió un error en la institución."
	for _, tc := range []struct{ delay, screen, call string }{
		{"1s", ready, "tramites.status ok 1s"},
		{"3s", failed, "tramites.status timeout 2s"},
		{"6s", failed, "tramites.status timeout 2s"},
	} {
		t.Run(tc.delay, func(t *testing.T) {
			var seen calls
			r.Observer = &seen
			tr, err := flowtest.ReadFile(writeTranscript(t, fmt.Sprintf(text, tc.delay, tc.screen, tc.screen == failed)))
			if err != nil {
				t.Fatal(err)
			}
			_, fails, err := r.Run(context.Background(), tr)
			if err != nil {
				t.Fatal(err)
			}
			for _, fl := range fails {
				t.Error(fl.String())
			}
			if len(seen) != 1 || seen[0] != tc.call {
				t.Errorf("calls %q, want %q", seen, tc.call)
			}
		})
	}
	t.Run("over the hop's budget", func(t *testing.T) {
		var seen calls
		r.Observer, r.Timeout = &seen, nil
		tr, err := flowtest.ReadFile(writeTranscript(t, `start: buzon
locale: es
mocks:
  buzon.ticket:
    - {delay: 6s, status: 201, body: {ticket: B-1}}
hops:
  - send: ""
  - send: "1"
  - send: "La fila no avanza"
`))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Run(context.Background(), tr); err != nil {
			t.Fatal(err)
		}
		if want := "buzon.ticket timeout 4s"; len(seen) != 1 || seen[0] != want {
			t.Errorf("calls %q, want %q", seen, want)
		}
	})
	// An async call may outlive its hop: the citizen is told the result
	// will come by SMS, and the flow finishes once the back-end answers,
	// on the transcript's clock.
	t.Run("async: sms, over the hop's budget", func(t *testing.T) {
		var seen calls
		r.Observer, r.Timeout = &seen, nil
		tr, err := flowtest.ReadFile(writeTranscript(t, fmt.Sprintf(`start: estado-tramite
locale: es
mocks:
  tramites.status:
    - {delay: 6s, body: {number: "1002", status: ready}}
hops:
  - send: ""
    screen: "Escriba el número de su trámite:"
    sms: []
  - send: "1002"
    screen: "Su consulta tarda más de lo normal. Le enviaremos el resultado por SMS."
    end: true
    sms:
      - {text: %q, to: citizen}
`, "Trámite 1002: listo. Puede retirarlo con su cédula.\nGracias.")))
		if err != nil {
			t.Fatal(err)
		}
		_, fails, err := r.Run(context.Background(), tr)
		if err != nil {
			t.Fatal(err)
		}
		for _, fl := range fails {
			t.Error(fl.String())
		}
		if want := "tramites.status ok 6s"; len(seen) != 1 || seen[0] != want {
			t.Errorf("calls %q, want %q", seen, want)
		}
	})
}

// smsFlow sends a code by SMS, and says so.
const smsFlow = `spec_version: 1
id: codigo
version: 1
institution: X
title: {es: Código}
locales: [es]
start: code
steps:
  code:
    kind: set
    vars: {code: '"T-7Q2"'}
    next: send
  send:
    kind: sms
    text: {es: "Su código es {{code}}."}
    next: sent
  sent:
    kind: end
    text: {es: "Le enviamos el código por SMS."}
`

// A hop's sms lists what it queued, strictly: a missing, extra or
// different SMS fails the hop and shows both lists.
func TestSMSAssertions(t *testing.T) {
	r := catalogueRunner(t, append(catalogue.Sources(), flows.Source{Name: "codigo.yaml", Data: []byte(smsFlow)})...)
	const head = "start: codigo\nlocale: es\nhops:\n  - send: \"\"\n    screen: Le enviamos el código por SMS.\n    end: true\n"
	for _, tc := range []struct{ name, sms, fail string }{
		{"as queued", "    sms:\n      - {text: Su código es T-7Q2., to: citizen}\n", ""},
		{"to the citizen by default", "    sms:\n      - text: Su código es T-7Q2.\n", ""},
		{"to the number", "    sms:\n      - {text: Su código es T-7Q2., to: \"+593991234567\"}\n", ""},
		{"not checked", "", ""},
		{"none expected", "    sms: []\n", "--- want SMS\n(none)\n--- got SMS\nto citizen: Su código es T-7Q2."},
		{"another text", "    sms:\n      - text: Su código es X.\n", "--- want SMS\nto citizen: Su código es X.\n--- got SMS\nto citizen: Su código es T-7Q2."},
		{"another number", "    sms:\n      - {text: Su código es T-7Q2., to: \"+593990000000\"}\n", "--- want SMS\nto +593990000000: Su código es T-7Q2."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := flowtest.Parse("t.yaml", []byte(head+tc.sms))
			if err != nil {
				t.Fatal(err)
			}
			_, fails, err := r.Run(context.Background(), tr)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			for _, fl := range fails {
				got += fl.String()
			}
			if tc.fail == "" && got != "" || !strings.Contains(got, tc.fail) {
				t.Errorf("failures:\n%s\nwant one containing:\n%s", got, tc.fail)
			}
			if tc.fail != "" && strings.Contains(got, "--- want (end") {
				t.Errorf("the screen was right, yet the failure shows it:\n%s", got)
			}
		})
	}
}

// An SMS assertion is read as strictly as a mock: its place, and what is
// valid.
func TestSMSAssertionsAreStrict(t *testing.T) {
	for _, tc := range []struct{ sms, want string }{
		{"    sms:\n      - {txt: hola}\n", `t.yaml:5:10: hops.0.sms.0.txt: unknown field "txt" (did you mean "text"?); fields: text, to`},
		{"    sms:\n      - {text: hola, to: vecino}\n", `t.yaml:5:26: hops.0.sms.0.to: to is "citizen" (the conversation's number) or a number such as +593991234567, found "vecino"`},
		{"    sms:\n      - {to: citizen}\n", `t.yaml:5:9: hops.0.sms.0: an SMS needs its text`},
		{"    sms: hola\n", `t.yaml:4:10: hops.0.sms: expected a list of SMS ({text: …, to: citizen}), found "hola"`},
	} {
		_, err := flowtest.Parse("t.yaml", []byte("hops:\n  - send: \"\"\n    screen: x\n"+tc.sms))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v\nwant %s", tc.sms, err, tc.want)
		}
	}
}

// -update writes what each hop queued, under the hops that check it or
// queued something.
func TestUpdateWritesSMS(t *testing.T) {
	r := catalogueRunner(t, append(catalogue.Sources(), flows.Source{Name: "codigo.yaml", Data: []byte(smsFlow)})...)
	path := writeTranscript(t, "start: codigo\nlocale: es\nhops:\n  - send: \"\"\n    screen: x\n")
	tr, err := flowtest.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := r.Run(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := flowtest.Update(path, got); err != nil {
		t.Fatal(err)
	}
	tr, err = flowtest.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, fails, err := r.Run(context.Background(), tr); err != nil || len(fails) > 0 || !tr.Hops[0].CheckSMS {
		t.Errorf("after -update: %v %v, checks SMS %v", err, fails, tr.Hops[0].CheckSMS)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "sms:\n      - text: \"Su código es T-7Q2.\"\n        to: citizen\n") {
		t.Errorf("updated file:\n%s", data)
	}
}

// A mock can say which parameters its call must send.
func TestMockParams(t *testing.T) {
	r := catalogueRunner(t)
	const text = `start: estado-tramite
locale: es
mocks:
  tramites.status:
    - {params: {number: %q}, body: {number: "1002", status: ready}}
hops:
  - send: ""
    screen: "Escriba el número de su trámite:"
  - send: "1002"
    screen: "Trámite 1002: listo. Puede retirarlo con su cédula."
    end: true
`
	for _, tc := range []struct{ want, err string }{
		{"1002", ""},
		{"1003", `call 1 to "tramites.status": parameter "number" is "1002", want "1003"`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			tr, err := flowtest.ReadFile(writeTranscript(t, fmt.Sprintf(text, tc.want)))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = r.Run(context.Background(), tr)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("Run: %v, want %q", err, tc.err)
			}
		})
	}
}

// The transcripts in docs/flows.md read and pass against the catalogue.
func TestDocsTranscripts(t *testing.T) {
	data, err := os.ReadFile("../../docs/flows.md")
	if err != nil {
		t.Fatal(err)
	}
	// The flows the guide shows join the catalogue's, but for those that
	// retell a catalogue flow.
	srcs := catalogue.Sources()
	guide, _, _ := strings.Cut(string(data), "## Reference\n")
	for i, block := range strings.Split(guide, "```yaml\n")[1:] {
		text, _, _ := strings.Cut(block, "```")
		if strings.HasPrefix(text, "spec_version:") && !strings.Contains(text, "\nid: estado-tramite ") {
			srcs = append(srcs, flows.Source{Name: fmt.Sprintf("docs/flows.md#flow%d", i+1), Data: []byte(text)})
		}
	}
	r := catalogueRunner(t, srcs...)
	// The catalogue's own timeouts, as `flows test` reads them.
	services, err := interop.ParseRegistry("services.yaml", catalogue.Services(), func(string) (string, bool) { return "http://127.0.0.1:1", true })
	if err != nil {
		t.Fatal(err)
	}
	r.Timeout = func(id string) time.Duration {
		if s, ok := services.Lookup(id); ok {
			return s.Timeout
		}
		return 0
	}
	n := 0
	for _, block := range strings.Split(string(data), "```yaml\n")[1:] {
		text, _, _ := strings.Cut(block, "```")
		if !strings.Contains(text, "\nhops:") {
			continue
		}
		n++
		tr, err := flowtest.Parse(fmt.Sprintf("docs/flows.md#transcript%d", n), []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		_, fails, err := r.Run(context.Background(), tr)
		if err != nil {
			t.Fatalf("%s: %v", tr.Name, err)
		}
		for _, fl := range fails {
			t.Errorf("%s: %s", tr.Name, fl)
		}
	}
	if n < 2 {
		t.Fatalf("%d transcripts in docs/flows.md, want 2", n)
	}
}
