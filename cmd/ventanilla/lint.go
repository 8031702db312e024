package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/internal/flowtest"
	"github.com/ventanilla-gob/ventanilla/internal/institution"
)

// cmdLint checks flow files: exit 0 when clean, 1 on errors (or warnings
// with --strict), 2 on bad usage.
func cmdLint(args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flagSet("flows lint", stderr, &c)
	strict := fs.Bool("strict", false, "treat warnings as errors")
	if err := parseFlags(fs, args, &c); err != nil {
		return 2
	}
	msgs, err := c.catalog()
	if err != nil {
		fmt.Fprintf(stderr, "lint: %v\n", err)
		return 2
	}
	b, problems, err := c.loadBundle(fs.Args(), msgs, os.LookupEnv, true, "", nil, nil)
	if err != nil {
		for _, p := range problems {
			fmt.Fprintln(stdout, p.String())
		}
		fmt.Fprintf(stderr, "lint: %v\n", err)
		return 2
	}
	reg := b.reg
	if usesPackages(fs.Args()) {
		problems = ownProblems(problems, fs.Args(), b.set)
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p.String())
	}
	errs, warns := problems.Count()
	checked := counted(len(reg.IDs()), "flow") + ","
	if usesPackages(fs.Args()) {
		checked = packagesChecked(b.set, len(reg.IDs()), c.NoCatalogue) + ";"
	}
	fmt.Fprintf(stdout, "%s %s, %s\n", checked, counted(errs, "error"), counted(warns, "warning"))
	if errs > 0 || (*strict && warns > 0) {
		return 1
	}
	return 0
}

// packagesChecked says what a lint of packages checked: each package's
// own flows, then everything they were loaded with ("transito: 1 flow;
// with the catalogue and the national menu, 7 flows, 2 institutions").
func packagesChecked(set *institution.Set, total int, noCatalogue bool) string {
	var b strings.Builder
	for _, p := range set.Packages {
		if p.Dir != catalogue.Name {
			fmt.Fprintf(&b, "%s: %s; ", p.ID(), counted(len(p.Flows), "flow"))
		}
	}
	with := "with the catalogue and the national menu"
	if noCatalogue {
		with = "with the national menu"
	}
	fmt.Fprintf(&b, "%s, %s, %s", with, counted(total, "flow"), counted(len(set.Packages), "institution"))
	return b.String()
}

// counted is n things, in the singular for one: "1 flow", "7 flows".
func counted(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// ownProblems keeps the problems of the packages linted, and of the
// flows composed from them: the catalogue they are checked against is not
// theirs to fix (a clash with it is reported in their own file). The
// catalogue's files are named "catalogue/…", which a relative folder
// (".") would otherwise be taken to hold.
func ownProblems(ps flows.Problems, dirs []string, set *institution.Set) flows.Problems {
	shipped := map[string]bool{}
	if set != nil {
		for _, p := range set.Packages {
			if p.Dir != catalogue.Name {
				continue
			}
			shipped[p.Manifest.File] = true
			for _, src := range append(slices.Clone(p.Flows), sources(p.Services, p.Templates, p.Messages)...) {
				shipped[src.Name] = true
			}
		}
	}
	var out flows.Problems
	for _, p := range ps {
		keep := institution.Composed(p.File)
		for _, d := range dirs {
			if rel, err := filepath.Rel(d, p.File); err == nil && !strings.HasPrefix(rel, "..") && !shipped[p.File] {
				keep = true
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}

// sources lists the files of those given.
func sources(srcs ...*flows.Source) []flows.Source {
	var out []flows.Source
	for _, s := range srcs {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}

// cmdGraph prints a flow as a Mermaid state diagram.
func cmdGraph(args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flagSet("flows graph", stderr, &c)
	if err := parseFlags(fs, args, &c); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: ventanilla flows graph FLOW")
		return 2
	}
	reg, code := loadForRun(&c, nil, stderr)
	if reg == nil {
		return code
	}
	f := reg.Latest(fs.Arg(0))
	if f == nil {
		fmt.Fprintf(stderr, "unknown flow %q; flows: %s\n", fs.Arg(0), strings.Join(reg.IDs(), ", "))
		return 1
	}
	g, err := f.Graph()
	if err != nil {
		fmt.Fprintf(stderr, "graph: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, g)
	return 0
}

// loadForRun loads the configured flows (or the packages among paths) for
// graph, test and simulate, printing problems; it returns nil and an exit
// status when they have errors.
func loadForRun(c *config, packages []string, stderr io.Writer) (*flows.Registry, int) {
	msgs, err := c.catalog()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, 2
	}
	b, problems, err := c.loadBundle(packages, msgs, os.LookupEnv, true, "", nil, nil)
	if err != nil {
		fmt.Fprintln(stderr, problems.Error())
		fmt.Fprintln(stderr, err)
		return nil, 2
	}
	reg := b.reg
	if problems.HasErrors() {
		fmt.Fprintln(stderr, problems.Error())
		return nil, 1
	}
	return reg, 0
}

// cmdFlowTest runs golden conversation transcripts.
func cmdFlowTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flagSet("flows test", stderr, &c)
	update := fs.Bool("update", false, "rewrite the expected screens (and the SMS and reminders hops check) with what the flows show now")
	if err := parseFlags(fs, args, &c); err != nil {
		return 2
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{filepath.Join("testdata", "conversations")}
	}
	// A package brings its own transcripts (testdata/conversations in its
	// folder) and is loaded next to the catalogue.
	var packages, transcripts []string
	for _, p := range paths {
		if usesPackages([]string{p}) {
			packages = append(packages, p)
		} else {
			transcripts = append(transcripts, p)
		}
	}
	var files []string
	if len(packages) > 0 {
		pkgs, _, err := institution.ReadAll(ctx, packages)
		if err != nil {
			fmt.Fprintf(stderr, "flows test: %v\n", err)
			return 2
		}
		for _, p := range pkgs {
			files = append(files, p.Transcripts...)
		}
		if len(files) == 0 && len(transcripts) == 0 {
			fmt.Fprintf(stderr, "flows test: no transcripts in %s of %s\n", institution.TranscriptsDir, strings.Join(packages, ", "))
			return 2
		}
	}
	if len(transcripts) > 0 {
		more, err := transcriptFiles(transcripts)
		if err != nil {
			fmt.Fprintf(stderr, "flows test: %v\n", err)
			return 2
		}
		files = append(files, more...)
	}
	msgs, err := c.catalog()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	reg, code := loadForRun(&c, packages, stderr)
	if reg == nil {
		return code
	}
	// Mocks stand in for the back-ends: their addresses (${VARS}) need not
	// be set; their timeouts bound the transcripts' slow mocks.
	services, err := c.services(lintEnv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	r := &flowtest.Runner{Flows: reg, Messages: msgs, Root: c.Root, Budget: c.Budget, Timeout: func(id string) time.Duration {
		if s, ok := services.Lookup(id); ok {
			return s.Timeout
		}
		return 0
	}}
	failed := 0
	for _, f := range files {
		t, err := flowtest.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stdout, "FAIL %s: %v\n", f, err)
			failed++
			continue
		}
		got, fails, err := r.Run(ctx, t)
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "FAIL %s: %v\n", f, err)
			failed++
		case *update:
			if err := flowtest.Update(f, got); err != nil {
				fmt.Fprintf(stdout, "FAIL %s: %v\n", f, err)
				failed++
				continue
			}
			fmt.Fprintf(stdout, "updated %s\n", f)
		case len(fails) > 0:
			fmt.Fprintf(stdout, "FAIL %s\n", f)
			for _, fl := range fails {
				fmt.Fprintln(stdout, indent(fl.String()))
			}
			failed++
		default:
			fmt.Fprintf(stdout, "ok   %s (%d hops)\n", f, len(t.Hops))
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", len(files)-failed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func transcriptFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		m, err := filepath.Glob(filepath.Join(p, "*.yaml"))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no transcripts (*.yaml) in %s", strings.Join(paths, ", "))
	}
	return out, nil
}
