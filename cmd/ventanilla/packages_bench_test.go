package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

// benchPackages writes n published packages of flows flows each (the
// scaffold's flow, copied under other ids) and returns their folder.
func benchPackages(tb testing.TB, n, flowsEach int) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := writeSamplePackages(dir, n, flowsEach); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// BenchmarkHTTPHop50Packages is BenchmarkHTTPHop with 50 institution
// packages of 10 flows each loaded next to the catalogue: the national
// menu holds 53 categories, paged.
func BenchmarkHTTPHop50Packages(b *testing.B) {
	benchHTTPHop(b, &config{Root: "inicio", Packages: listFlag{benchPackages(b, 50, 10)}})
}

// BenchmarkHTTPHopPackagesRatio takes the hops of BenchmarkHTTPHop and
// BenchmarkHTTPHop50Packages in turns of 100, so that both see the same
// load on a shared machine, and reports the time of each and their ratio
// (50 packages / the catalogue alone), which should stay within 1.05.
func BenchmarkHTTPHopPackagesRatio(b *testing.B) {
	walkers := [2]func(int){
		httpWalker(b, &config{Root: "inicio"}),
		httpWalker(b, &config{Root: "inicio", Packages: listFlag{benchPackages(b, 50, 10)}}),
	}
	var spent [2]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i += 100 {
		for k := range walkers {
			k = (k + i/100) % 2 // who goes first alternates
			start := time.Now()
			for j := i; j < min(i+100, b.N); j++ {
				walkers[k](j)
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

// BenchmarkLoadPackages is what a start or a reload costs with 50
// packages of 10 flows: reading, checking and composing the packages,
// compiling the 503 flows.
func BenchmarkLoadPackages(b *testing.B) {
	for _, n := range []int{1, 50} {
		b.Run(fmt.Sprintf("packages=%d", n), func(b *testing.B) {
			c := &config{Root: "inicio", Keywords: defaultKeywords, Packages: listFlag{benchPackages(b, n, 10)}}
			msgs, err := i18n.Load()
			if err != nil {
				b.Fatal(err)
			}
			getenv := func(k string) (string, bool) { return "http://127.0.0.1:1", true }
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				bundle, problems, err := c.loadBundle(nil, msgs, getenv, false, "", nil, nil)
				if err != nil || problems.HasErrors() {
					b.Fatal(err, problems)
				}
				if len(bundle.reg.IDs()) != len(catalogue.Package().Flows)+1+n*10 {
					b.Fatalf("%d flows", len(bundle.reg.IDs()))
				}
			}
		})
	}
}

// BenchmarkReloadOnePackage is a per-package reload with 50 packages of
// 10 flows loaded: compiling every flow again, as it was done before, and
// compiling only the reloaded package's (and the composed menu), taking
// the other packages' compiled flows as they run. Either way the other
// packages are not read again, and what composing checks of their files
// was read when they were.
func BenchmarkReloadOnePackage(b *testing.B) {
	c := &config{Root: "inicio", Keywords: defaultKeywords, Packages: listFlag{benchPackages(b, 50, 10)}}
	msgs, err := i18n.Load()
	if err != nil {
		b.Fatal(err)
	}
	getenv := func(k string) (string, bool) { return "http://127.0.0.1:1", true }
	running, problems, err := c.loadBundle(nil, msgs, getenv, false, "", nil, nil)
	if err != nil || problems.HasErrors() {
		b.Fatal(err, problems)
	}
	for _, mode := range []struct {
		name     string
		compiled map[sourceKey]*flows.Compiled
	}{{"recompile-all", nil}, {"only-the-package", running.compiled}} {
		b.Run(mode.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				bundle, problems, err := c.loadBundle(nil, msgs, getenv, false, "sample07", running.set.Packages, mode.compiled)
				if err != nil || problems.HasErrors() {
					b.Fatal(err, problems)
				}
				if len(bundle.reg.IDs()) != len(catalogue.Package().Flows)+1+50*10 {
					b.Fatalf("%d flows", len(bundle.reg.IDs()))
				}
			}
		})
	}
}
