package main

import (
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// A conversation in an institution's flow is counted under that
// institution on the hops, the funnel and its back-end calls; the
// composed menu is the national package's. Whatever a citizen types (an
// institution's name, a made-up flow id), the institution label takes
// only the loaded packages' ids.
func TestMetricsPerInstitution(t *testing.T) {
	dir := t.TempDir()
	newPackage(t, dir, "transito", published)
	srv, a := packagesApp(t, dir, "")
	h := &phoneOn{t, a, carrier.Inbound{Channel: "ussd", Carrier: "africastalking", SessionID: "inst-1", Phone: "+593991000201", ServiceCode: "*384#"}}
	h.send("")
	h.send("1")
	expect(t, h.send("4"), "Escriba el número de su solicitud:")
	h.send("12345")
	// Input shaped like label values reaches no label.
	other := &phoneOn{t, a, carrier.Inbound{Channel: "ussd", Carrier: "africastalking", SessionID: "inst-2", Phone: "+593991000202", ServiceCode: "*384#"}}
	other.send("")
	other.send("registro-civil")
	other.send(`transito"} 1`)

	_, body := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`ventanilla_hops_total{carrier="africastalking",flow="transito-consulta",institution="transito",outcome=`,
		`ventanilla_hop_duration_seconds_count{carrier="africastalking",institution="transito"}`,
		`ventanilla_flow_steps_total{event="reached",flow="transito-consulta",institution="transito",step=`,
		`ventanilla_backend_calls_total{institution="transito",outcome="ok",service="transito.`,
		`ventanilla_hops_total{carrier="africastalking",flow="inicio",institution="ventanilla",outcome="continue"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, line := range strings.Split(body, "\n") {
		if i := strings.Index(line, `institution="`); i >= 0 && !strings.HasPrefix(line, "#") {
			v := line[i+len(`institution="`):]
			v = v[:strings.IndexByte(v, '"')]
			if v != "transito" && v != "ventanilla" && v != "none" {
				t.Errorf("institution label %q is no loaded package's: %s", v, line)
			}
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}
