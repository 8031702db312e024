package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	inst "github.com/ventanilla-gob/ventanilla/internal/institution"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// benchManifest and benchFlow make one published institution package
// with one catalogue entry in its own category, as most are.
const benchManifest = `institution: ID
name: {es: "Institución ID", en: "ID institution", qu: "ID institución"}
contact: {email: soporte@ID.example.gob.ec}
categories:
  ID: {title: {es: "Institución ID", en: "ID institution", qu: "ID institución"}}
entries:
  consulta:
    title: {es: "Consulta ID", en: "ID enquiry", qu: "ID tapuy"}
    category: ID
    description: {es: "Una consulta.", en: "An enquiry.", qu: "Tapuy."}
    flow: ID-consulta0
`

const benchFlow = `spec_version: 1
id: FLOW
version: 1
institution: ID
title: {es: "Consulta ID", en: "ID enquiry", qu: "ID tapuy"}
locales: [es, en, qu]
start: ask
steps:
  ask:
    kind: input
    text: {es: "Escriba un número:", en: "Type a number:", qu: "Yupayta killkay:"}
    validate: {kind: digits, min: 3, max: 10}
    save: number
    next: done
  done:
    kind: end
    text: {es: "Número {{number}}.", en: "Number {{number}}.", qu: "Yupay {{number}}."}
`

// packagesGateway is newGateway's gateway serving the catalogue and n
// packages of flowsEach flows, composed into one national menu.
func packagesGateway(tb testing.TB, store sessions.Store, n, flowsEach int) *gateway.Gateway {
	tb.Helper()
	pkgs := []*inst.Package{catalogue.Package()}
	for i := range n {
		id := fmt.Sprintf("inst%02d", i)
		fsys := fstest.MapFS{inst.ManifestFile: {Data: []byte(strings.ReplaceAll(benchManifest, "ID", id))}}
		for j := range flowsEach {
			flow := fmt.Sprintf("%s-consulta%d", id, j)
			text := strings.NewReplacer("FLOW", flow, "ID", id).Replace(benchFlow)
			fsys[inst.FlowsDir+"/"+flow+".yaml"] = &fstest.MapFile{Data: []byte(text)}
		}
		p, problems, err := inst.ReadFS(context.Background(), fsys, id)
		if err != nil || problems.HasErrors() {
			tb.Fatal(err, problems)
		}
		pkgs = append(pkgs, p)
	}
	set, problems := inst.Compose(pkgs, inst.Options{})
	if problems.HasErrors() {
		tb.Fatal(problems)
	}
	msgs, err := i18n.Load()
	if err != nil {
		tb.Fatal(err)
	}
	reg, problems := flows.Load(set.Sources, flows.Env{Messages: msgs, Measure: measure})
	if problems.HasErrors() {
		tb.Fatal(problems)
	}
	if got := len(reg.IDs()); got < 1+n*flowsEach {
		tb.Fatalf("%d flows loaded", got)
	}
	g := newGateway(tb, store)
	g.Engine.Flows = func() *flows.Registry { return reg }
	return g
}

// BenchmarkHopMemory50Packages is BenchmarkHopMemory with 50 institution
// packages of 10 flows each next to the catalogue: the services menu
// holds 53 entries, paged. Compare it with BenchmarkHopMemory in the same
// run (-bench 'HopMemory' -count 6): allocs/op are equal, and the time
// within a few per cent.
func BenchmarkHopMemory50Packages(b *testing.B) {
	g := packagesGateway(b, sessions.NewMemory(sessions.MemoryOptions{}), 50, 10)
	benchGatewayHops(b, g)
}

// BenchmarkHopMemoryPackagesRatio runs the hops of BenchmarkHopMemory
// and BenchmarkHopMemory50Packages in turns of 100, so that both see the
// same load on a shared machine, and reports the time of each and their
// ratio (50 packages / the catalogue alone), which should stay within
// 1.05.
func BenchmarkHopMemoryPackagesRatio(b *testing.B) {
	one := &walker{g: newGateway(b, sessions.NewMemory(sessions.MemoryOptions{}))}
	fifty := &walker{g: packagesGateway(b, sessions.NewMemory(sessions.MemoryOptions{}), 50, 10)}
	walkers := [2]*walker{one, fifty}
	var spent [2]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i += 100 {
		for k := range walkers {
			k = (k + i/100) % 2 // who goes first alternates
			start := time.Now()
			for j := i; j < min(i+100, b.N); j++ {
				walkers[k].hop(b, j)
			}
			spent[k] += time.Since(start)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(spent[0].Nanoseconds())/n, "ns/hop-1pkg")
	b.ReportMetric(float64(spent[1].Nanoseconds())/n, "ns/hop-50pkg")
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "ratio")
}
