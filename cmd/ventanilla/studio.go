package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/sms"
	"github.com/ventanilla-gob/ventanilla/flows"
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
	transcripts := fs.String("transcripts", filepath.Join("testdata", "conversations"), "directory of golden transcripts: mocks to answer with, coverage, where \"save as transcript\" writes")
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
	if c.FlowsDir == "" {
		fmt.Fprintln(stdout, "Showing the embedded catalogue; give --flows DIR to edit flows and see the lint live.")
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
	services, err := c.services(getenv)
	if err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	nav, err := c.nav()
	if err != nil {
		return nil, err
	}
	load := func() (*flows.Registry, flows.Problems, error) {
		svc, err := c.services(getenv)
		if err != nil {
			return nil, nil, fmt.Errorf("services: %w", err)
		}
		reg, problems, err := c.loadFlows(nil, msgs, svc, getenv)
		if err != nil || problems.HasErrors() {
			return nil, problems, err
		}
		if reg.Latest(c.Root) == nil {
			return nil, problems, fmt.Errorf("root flow %q is not loaded", c.Root)
		}
		return reg, problems, nil
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
	return studio.New(studio.Options{
		Load: load, Messages: msgs, Root: c.Root, Nav: nav,
		Services:     interop.NewClient(services, nil, interop.WithLogger(log)),
		ServiceNames: services.IDs(),
		Watch:        watch, Transcripts: transcripts,
		Budget: c.Budget,
		SMS:    sms.Options{MaxSegments: c.SMSSegments, Transliterate: c.SMSTranslit},
		Token:  token, Log: log,
	})
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
