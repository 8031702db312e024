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

// updated runs a one-hop transcript of flow start, writes what it got
// with -update, and runs the written transcript again.
func updated(t *testing.T, r *flowtest.Runner, start string) (string, *flowtest.Transcript, []flowtest.Failure, error) {
	t.Helper()
	path := writeTranscript(t, "start: "+start+"\nlocale: es\nhops:\n  - send: \"\"\n    screen: x\n")
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
	if tr, err = flowtest.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	_, fails, err := r.Run(context.Background(), tr)
	return path, tr, fails, err
}

// -update writes what each hop queued, under the hops that check it or
// queued something.
func TestUpdateWritesSMS(t *testing.T) {
	r := catalogueRunner(t, append(catalogue.Sources(), flows.Source{Name: "codigo.yaml", Data: []byte(smsFlow)})...)
	path, tr, fails, err := updated(t, r, "codigo")
	if err != nil || len(fails) > 0 || !tr.Hops[0].CheckSMS {
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

// remindFlows book a cita for 07:30 two days after the transcripts'
// Monday 09:00, reminded 24 and 2 hours ahead (the second falls in the
// quiet hours, 21:00–07:00, and goes when they end), and cancel it.
var remindFlows = []flows.Source{
	{Name: "cita.yaml", Data: []byte(`spec_version: 1
id: cita
version: 1
institution: X
title: {es: Cita}
locales: [es]
start: code
steps:
  code:
    kind: set
    vars: {code: '"C-1"', day: '"2026-11-25"', hour: '"07:30"'}
    next: remind
  remind:
    kind: remind
    key: code
    at: 'day + " " + hour'
    before: [24h, 2h]
    zone: America/Guayaquil
    text: {es: "Cita {{code}}: {{day}} {{hour}}. Responda 2 para anular."}
    reply: cita-respuesta
    vars: {code: code}
    next: done
  done:
    kind: end
    text: {es: "Le recordaremos la cita {{code}}."}
`)},
	{Name: "cita-respuesta.yaml", Data: []byte(`spec_version: 1
id: cita-respuesta
version: 1
institution: X
title: {es: Respuesta}
locales: [es]
params: [reply, code]
start: done
steps:
  done:
    kind: end
    text: {es: "Cita {{code}}: {{reply}}."}
`)},
	{Name: "cita-anular.yaml", Data: []byte(`spec_version: 1
id: cita-anular
version: 1
institution: X
title: {es: Anular}
locales: [es]
start: code
steps:
  code:
    kind: set
    vars: {code: '"C-1"'}
    next: forget
  forget:
    kind: remind
    cancel: true
    key: code
    next: done
  done:
    kind: end
    text: {es: "Cita {{code}} anulada."}
`)},
}

// A hop's reminders list what its remind steps scheduled and cancelled,
// strictly: a reminder that differs fails the hop at the transcript's
// line and column, with what was wanted and what was got, and the hop's
// whole lists under it.
func TestReminderAssertions(t *testing.T) {
	r := catalogueRunner(t, append(catalogue.Sources(), remindFlows...)...)
	const head = "start: cita\nlocale: es\nhops:\n  - send: \"\"\n    screen: Le recordaremos la cita C-1.\n    end: true\n"
	const both = `    reminders:
      - key: C-1
        at: "2026-11-25 07:30"
        before: 24h
        due: "2026-11-24 07:30"
        text: "Cita C-1: 2026-11-25 07:30. Responda 2 para anular."
        reply: cita-respuesta
        vars: {code: C-1}
      - {key: C-1, at: "2026-11-25 07:30", before: 2h, due: "2026-11-25 07:00", zone: America/Guayaquil, text: "Cita C-1: 2026-11-25 07:30. Responda 2 para anular.", reply: cita-respuesta, vars: {code: C-1}}
`
	for _, tc := range []struct{ name, reminders, fail string }{
		{"as scheduled", both, ""},
		{"not checked", "", ""},
		{"at a time in other words", strings.Replace(both, `at: "2026-11-25 07:30"`, `at: "2026-11-25T07:30:00"`, 1), ""},
		{"another at", strings.Replace(both, `at: "2026-11-25 07:30"`, `at: "2026-11-25 08:30"`, 1),
			`t.yaml:9:13: hops.0.reminders.0.at: want "2026-11-25 08:30", got "2026-11-25 07:30"`},
		{"due in the quiet hours", strings.Replace(both, `due: "2026-11-25 07:00"`, `due: "2026-11-25 05:30"`, 1),
			`t.yaml:15:61: hops.0.reminders.1.due: want "2026-11-25 05:30", got "2026-11-25 07:00"`},
		{"another zone", strings.Replace(both, `zone: America/Guayaquil`, `zone: America/Bogota`, 1),
			`t.yaml:15:87: hops.0.reminders.1.zone: want "America/Bogota", got "America/Guayaquil"`},
		{"another before", strings.Replace(both, `before: 24h`, `before: 48h`, 1),
			`t.yaml:10:17: hops.0.reminders.0.before: want 48h, got 24h`},
		{"another text", strings.Replace(both, `text: "Cita C-1: 2026-11-25 07:30. Responda 2 para anular."`, `text: "Cita C-1."`, 1),
			`t.yaml:12:15: hops.0.reminders.0.text: want "Cita C-1.", got "Cita C-1: 2026-11-25 07:30. Responda 2 para anular."`},
		{"no reply", strings.Replace(both, "        reply: cita-respuesta\n", "", 1),
			`t.yaml:8:9: hops.0.reminders.0.reply: want none, got "cita-respuesta"`},
		{"another var", strings.Replace(both, `vars: {code: C-1}`, `vars: {code: C-2}`, 1),
			`t.yaml:14:15: hops.0.reminders.0.vars: want {code: "C-2"}, got {code: "C-1"}`},
		{"none expected", "    reminders: []\n",
			`t.yaml:7:16: hops.0.reminders: the hop scheduled a reminder, which the transcript does not list: key C-1: 24h before 2026-11-25 07:30, due 2026-11-24 07:30 (America/Guayaquil)`},
		{"one missing", strings.Split(both, "      - {")[0],
			`t.yaml:8:7: hops.0.reminders: the hop scheduled a reminder, which the transcript does not list: key C-1: 2h before 2026-11-25 07:30, due 2026-11-25 07:00`},
		{"a cancellation that did not happen", both + "      - {key: C-1, cancelled: true}\n",
			`t.yaml:16:9: hops.0.reminders.2: want key C-1: cancelled, got none: the hop cancelled no more reminders`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := flowtest.Parse("t.yaml", []byte(head+tc.reminders))
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
			if tc.fail != "" && (strings.Contains(got, "--- want (end") || !strings.Contains(got, "--- want reminders\n")) {
				t.Errorf("the failure does not show the reminders alone:\n%s", got)
			}
		})
	}
}

// A cancellation is asserted by the booking's key, and a hop that
// schedules instead, or cancels another booking, fails.
func TestReminderCancellation(t *testing.T) {
	r := catalogueRunner(t, append(catalogue.Sources(), remindFlows...)...)
	const text = `start: cita-anular
locale: es
hops:
  - send: ""
    screen: Cita C-1 anulada.
    end: true
    reminders: %s
`
	for _, tc := range []struct{ reminders, fail string }{
		{"[{key: C-1, cancelled: true}]", ""},
		{"[]", `t.yaml:7:16: hops.0.reminders: the hop cancelled reminders, which the transcript does not list: key C-1: cancelled`},
		{"[{key: C-2, cancelled: true}]", `t.yaml:7:23: hops.0.reminders.0.key: want "C-2", got "C-1"`},
		{`[{key: C-1, at: "2026-11-25 07:30", before: 2h, due: "2026-11-25 07:00", text: x}]`,
			`t.yaml:7:17: hops.0.reminders.0: want key C-1: 2h before 2026-11-25 07:30, due 2026-11-25 07:00 (America/Guayaquil): "x", got key C-1: cancelled`},
	} {
		t.Run(tc.reminders, func(t *testing.T) {
			tr, err := flowtest.Parse("t.yaml", []byte(fmt.Sprintf(text, tc.reminders)))
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
		})
	}
}

// A reminder assertion is read as strictly as the rest of a transcript:
// a misspelt field, a time or a duration that is not one, a cancellation
// that names more than its key, stop it at their place.
func TestReminderAssertionsAreStrict(t *testing.T) {
	const full = `key: C-1, at: "2026-11-25 07:30", before: 2h, due: "2026-11-25 07:00", text: x`
	for _, tc := range []struct{ reminders, want string }{
		{"[{" + strings.Replace(full, "before:", "bfore:", 1) + "}]",
			`t.yaml:4:52: hops.0.reminders.0.bfore: unknown field "bfore" (did you mean "before"?); fields: key, at, before, due, zone, text, reply, vars, cancelled`},
		{"[{key: C-1, canceled: true}]", `t.yaml:4:28: hops.0.reminders.0.canceled: unknown field "canceled" (did you mean "cancelled"?)`},
		{"[{" + strings.Replace(full, `at: "2026-11-25 07:30"`, `at: "25/11/2026 07:30"`, 1) + "}]",
			`t.yaml:4:32: hops.0.reminders.0.at: expected a local time such as "2026-11-24 10:30" (in the reminder's zone), found "25/11/2026 07:30"`},
		{"[{" + strings.Replace(full, "before: 2h", "before: two hours", 1) + "}]",
			`t.yaml:4:60: hops.0.reminders.0.before: before must be a duration such as 24h or 90m, found "two hours"`},
		{"[{" + full + ", zone: America/Guayaqil}]", `t.yaml:4:104: hops.0.reminders.0.zone: unknown time zone "America/Guayaqil"`},
		{"[{key: C-1, at: \"2026-11-25 07:30\"}]", `t.yaml:4:17: hops.0.reminders.0: a reminder needs before, due, text (or, for a cancellation, key and cancelled: true)`},
		{"[{key: C-1, cancelled: true, text: x}]", `t.yaml:4:17: hops.0.reminders.0.text: a cancellation names its key alone; text belongs to a reminder scheduled`},
		{"[{key: C-1, cancelled: false}]", `t.yaml:4:39: hops.0.reminders.0.cancelled: cancelled is true`},
		{"[{" + full + ", vars: [C-1]}]", `t.yaml:4:104: hops.0.reminders.0.vars: expected a mapping of the reply flow's variables to their values, found a list`},
		{"24h", `t.yaml:4:16: hops.0.reminders: expected a list of reminders`},
	} {
		_, err := flowtest.Parse("t.yaml", []byte("hops:\n  - send: \"\"\n    screen: x\n    reminders: "+tc.reminders+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant %s", tc.reminders, err, tc.want)
		}
	}
}

// -update writes what each hop scheduled, under the hops that check it
// or scheduled something, and the transcript then passes.
func TestUpdateWritesReminders(t *testing.T) {
	r := catalogueRunner(t, append(catalogue.Sources(), remindFlows...)...)
	path, tr, fails, err := updated(t, r, "cita")
	if err != nil || len(fails) > 0 || !tr.Hops[0].CheckReminders {
		t.Errorf("after -update: %v %v, checks reminders %v", err, fails, tr.Hops[0].CheckReminders)
	}
	data, _ := os.ReadFile(path)
	const want = `    reminders:
      - key: C-1
        at: "2026-11-25 07:30"
        before: 24h
        due: "2026-11-24 07:30"
        text: "Cita C-1: 2026-11-25 07:30. Responda 2 para anular."
        reply: cita-respuesta
        vars: {code: "C-1"}
      - key: C-1
`
	if !strings.Contains(string(data), want) {
		t.Errorf("updated file:\n%s\nwant it to hold:\n%s", data, want)
	}
}
