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
    end: true
`
	const ready, failed = "Trámite 1002: listo. Puede retirarlo con su cédula.", "Ocurrió un error en la institución."
	for _, tc := range []struct{ delay, screen, call string }{
		{"1s", ready, "tramites.status ok 1s"},
		{"3s", failed, "tramites.status timeout 2s"},
		{"6s", failed, "tramites.status timeout 2s"},
	} {
		t.Run(tc.delay, func(t *testing.T) {
			var seen calls
			r.Observer = &seen
			tr, err := flowtest.ReadFile(writeTranscript(t, fmt.Sprintf(text, tc.delay, tc.screen)))
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
		tr, err := flowtest.ReadFile(writeTranscript(t, fmt.Sprintf(text, "6s", failed)))
		if err != nil {
			t.Fatal(err)
		}
		if _, fails, err := r.Run(context.Background(), tr); err != nil || len(fails) > 0 {
			t.Fatal(err, fails)
		}
		if want := "tramites.status timeout 4s"; len(seen) != 1 || seen[0] != want {
			t.Errorf("calls %q, want %q", seen, want)
		}
	})
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
	r.Timeout = func(string) time.Duration { return 2 * time.Second }
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
