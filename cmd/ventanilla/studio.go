package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/internal/institution"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/studio"
	"github.com/ventanilla-gob/ventanilla/interop"
)

// studioAddr is where the studio listens unless --addr says otherwise:
// loopback, on a port of its own so that it runs beside `make run`.
const studioAddr = "127.0.0.1:8099"

// cmdStudio serves the studio: three phones on one conversation, the
// lint kept live, the diagram, and transcripts recorded from the browser.
func cmdStudio(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flagSet("studio", stderr, &c)
	addr := fs.Lookup("addr")
	addr.DefValue = studioAddr
	_ = addr.Value.Set(studioAddr)
	token := fs.String("token", "", "a secret every request must carry; required with an --addr that is not loopback")
	transcripts := fs.String("transcripts", defaultTranscripts, "directory of golden transcripts: mocks to answer with, coverage, where \"save as transcript\" writes")
	if err := parseFlags(fs, args, &c); err != nil {
		return 2
	}
	if !loopbackAddr(c.Addr) && *token == "" {
		fmt.Fprintf(stderr, "studio: --addr %s is reachable from other machines: give a --token as well\n", c.Addr)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, stop, err := newStudio(&c, *transcripts, *token, os.LookupEnv, log)
	if err != nil {
		fmt.Fprintf(stderr, "studio: %v\n", err)
		return 1
	}
	defer stop()
	if err := st.Watch(ctx); err != nil {
		fmt.Fprintf(stderr, "studio: watching the flow files: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "studio: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: st, ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	url := "http://" + ln.Addr().String() + "/"
	if *token != "" {
		url += "?token=" + *token
	}
	fmt.Fprintf(stdout, "Ventanilla Studio on %s\n", url)
	if c.FlowsDir == "" && len(c.Packages) == 0 {
		fmt.Fprintln(stdout, "Showing the embedded catalogue; give --packages DIR (or --flows DIR) to edit flows and see the lint live.")
	}
	go func() {
		<-ctx.Done()
		st.Close()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "studio: %v\n", err)
		return 1
	}
	return 0
}

// loopbackAddr reports whether a listen address is reachable from this
// machine only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newStudio builds the studio from configuration: the flows and services
// as serve reads them, the sample back-end in place of the catalogue's
// services when nothing else is configured. stop ends the sample back-end.
func newStudio(c *config, transcripts, token string, getenv func(string) (string, bool), log *slog.Logger) (*studio.Studio, func(), error) {
	stop := func() {}
	if _, set := getenv("VENTANILLA_SAMPLE_URL"); !set && c.Services == "" {
		// The catalogue's services are the sample back-end's, served here.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		backend := &http.Server{Handler: sample.New(sample.Options{}), ReadHeaderTimeout: 5 * time.Second}
		go backend.Serve(ln)
		stop = func() { backend.Close() }
		url := "http://" + ln.Addr().String()
		outer := getenv
		getenv = func(name string) (string, bool) {
			if name == "VENTANILLA_SAMPLE_URL" {
				return url, true
			}
			return outer(name)
		}
	}
	st, err := buildStudio(c, transcripts, token, getenv, log)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return st, stop, nil
}

func buildStudio(c *config, transcripts, token string, getenv func(string) (string, bool), log *slog.Logger) (*studio.Studio, error) {
	msgs, err := c.catalog()
	if err != nil {
		return nil, err
	}
	nav, err := c.nav()
	if err != nil {
		return nil, err
	}
	// The flows, services and composed menu are read as serve reads them;
	// each reload swaps the back-end client in with the flows.
	var caller swapCaller
	var names []string
	read := func() (*flows.Registry, flows.Problems, error) {
		b, problems, err := c.loadBundle(nil, msgs, getenv, false, "", nil, nil)
		if err != nil || problems.HasErrors() {
			return nil, problems, err
		}
		if b.reg.Latest(c.Root) == nil {
			return nil, problems, fmt.Errorf("root flow %q is not loaded", c.Root)
		}
		caller.Store(interop.NewClient(b.services, nil, interop.WithLogger(log)))
		names = b.services.IDs()
		return b.reg, problems, nil
	}
	caller.Store(interop.NewClient(interop.NewRegistry(), nil, interop.WithLogger(log)))
	// The first read names the services for the answer picker; the studio
	// starts on it.
	reg, problems, err := read()
	first := true
	load := func() (*flows.Registry, flows.Problems, error) {
		if first {
			first = false
			return reg, problems, err
		}
		return read()
	}
	if len(c.Packages) > 0 {
		// Save as transcript writes into the package's own transcripts
		// when one package is edited and no --transcripts is given.
		if pkgs := packageDirs(c.Packages); len(pkgs) == 1 && transcripts == defaultTranscripts {
			transcripts = filepath.Join(pkgs[0], filepath.FromSlash(institution.TranscriptsDir))
		}
	}
	var watch []string
	for _, p := range []string{c.FlowsDir, c.Services, transcripts} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			watch = append(watch, p)
		}
	}
	watch = append(watch, packageTree(c.Packages)...)
	st, err := studio.New(studio.Options{
		Load: load, Messages: msgs, Root: c.Root, Nav: nav,
		Services: &caller, ServiceNames: names,
		Watch: watch, Transcripts: transcripts,
		Budget: c.Budget,
		SMS:    sms.Options{MaxSegments: c.SMSSegments, Transliterate: c.SMSTranslit},
		Token:  token, Log: log,
	})
	return st, err
}

// defaultTranscripts is where "save as transcript" writes unless
// --transcripts, or a single --packages folder, says otherwise.
var defaultTranscripts = filepath.Join("testdata", "conversations")

// packageDirs lists the package folders of dirs: each a package, or a
// folder of them.
func packageDirs(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if institution.IsPackage(d) {
			out = append(out, d)
			continue
		}
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if p := filepath.Join(d, e.Name()); e.IsDir() && institution.IsPackage(p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// packageTree lists the folders under dirs (the --packages), themselves
// included, for the studio to watch: fsnotify watches one folder deep.
func packageTree(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if e.IsDir() {
				if path != d && strings.HasPrefix(e.Name(), ".") {
					return filepath.SkipDir
				}
				out = append(out, path)
			}
			return nil
		})
	}
	return out
}

// mountSimulator serves the studio's three phones at /simulator/ of the
// demo, on the demo's flows and sample back-end, so that a newcomer sees
// the product in a browser. serve never mounts it: it is an author's tool
// that keeps one conversation in memory.
func mountSimulator(a *app, c *config, getenv func(string) (string, bool), log *slog.Logger) (*studio.Studio, error) {
	st, err := buildStudio(c, filepath.Join("testdata", "conversations"), "", getenv, log)
	if err != nil {
		return nil, err
	}
	h := echo.WrapHandler(http.StripPrefix("/simulator", st))
	a.echo.GET("/simulator", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/simulator/")
	})
	a.echo.Any("/simulator/*", h)
	return st, nil
}
