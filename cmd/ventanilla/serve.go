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
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"ventanilla/carriers/africastalking"
	"ventanilla/channels"
	"ventanilla/channels/ussd"
	"ventanilla/flows"
	"ventanilla/interop"
	"ventanilla/interop/sample"
	"ventanilla/sessions"
)

// carriers is the one list of carrier adapters the gateway serves. Adding a
// provider is its folder under carriers/ plus one line here.
func carriers() []channels.Carrier {
	return []channels.Carrier{
		africastalking.New(africastalking.Options{}),
	}
}

// app is a configured gateway, ready to serve.
type app struct {
	echo    *echo.Echo
	gateway *channels.Gateway
	store   sessions.Store
	flows   *flows.Registry
	log     *slog.Logger
}

// newApp builds the gateway from configuration. getenv resolves ${VAR} in
// the services file.
func newApp(c *config, log *slog.Logger, getenv func(string) (string, bool), list []channels.Carrier) (*app, error) {
	msgs, err := c.catalog()
	if err != nil {
		return nil, fmt.Errorf("loading system messages: %w", err)
	}
	services, err := c.services(getenv)
	if err != nil {
		return nil, err
	}
	reg, problems, err := c.loadFlows(nil, msgs, services)
	if err != nil {
		return nil, fmt.Errorf("loading flows: %w", err)
	}
	if problems.HasErrors() {
		return nil, fmt.Errorf("loading flows:\n%w", problems)
	}
	for _, p := range problems {
		log.Warn("flow lint", "problem", p.String())
	}
	if reg.Latest(c.Root) == nil {
		return nil, fmt.Errorf("root flow %q is not loaded (flows: %s)", c.Root, strings.Join(reg.IDs(), ", "))
	}
	routes, err := c.routes()
	if err != nil {
		return nil, err
	}
	for code, id := range routes {
		if reg.Latest(id) == nil {
			return nil, fmt.Errorf("--routes: %s opens unknown flow %q", code, id)
		}
	}
	nav, err := c.nav()
	if err != nil {
		return nil, err
	}
	store, err := c.store()
	if err != nil {
		return nil, err
	}
	engine := &flows.Engine{
		Flows:        func() *flows.Registry { return reg },
		Messages:     msgs,
		Caller:       interop.NewClient(services, nil),
		Nav:          nav,
		Root:         c.Root,
		MaxHistory:   20,
		MaxAutoSteps: 64,
	}
	gw := &channels.Gateway{Engine: engine, Store: store, Log: log, Routes: routes, SessionTTL: c.SessionTTL, ResumeWindow: c.Resume, Budget: c.Budget}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = plainErrors
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			return c.String(http.StatusServiceUnavailable, "session store unreachable\n")
		}
		return c.String(http.StatusOK, "ok\n")
	})
	for _, car := range list {
		car.Mount(e, gw)
	}
	return &app{echo: e, gateway: gw, store: store, flows: reg, log: log}, nil
}

// plainErrors answers errors as short plain text, never an HTML page.
func plainErrors(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		msg = fmt.Sprint(he.Message)
	}
	_ = c.String(code, msg+"\n")
}

func (c *config) store() (sessions.Store, error) {
	switch {
	case c.RedisAddrs != "":
		client := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs:      strings.Split(c.RedisAddrs, ","),
			MasterName: c.RedisMaster,
		})
		return sessions.NewRedis(client, sessions.RedisOptions{}), nil
	case c.RedisURL != "":
		opts, err := redis.ParseURL(c.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("--redis-url: %w", err)
		}
		return sessions.NewRedis(redis.NewClient(opts), sessions.RedisOptions{}), nil
	}
	return sessions.NewMemory(sessions.MemoryOptions{}), nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// cmdServe runs the gateway; with demo it also runs the sample institution
// back-end on loopback and points the catalogue's services at it.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, demo bool) int {
	var c config
	name := "serve"
	if demo {
		name = "demo"
	}
	fs := flagSet(name, stderr, &c)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := newLogger(c.LogFormat, stderr)
	getenv := os.LookupEnv
	if demo {
		ln, err := net.Listen("tcp", c.SampleAddr)
		if err != nil {
			fmt.Fprintf(stderr, "demo: sample back-end: %v\n", err)
			return 1
		}
		backend := &http.Server{Handler: sample.New(sample.Options{}), ReadHeaderTimeout: 5 * time.Second}
		go backend.Serve(ln)
		defer backend.Close()
		url := "http://" + ln.Addr().String()
		log.Info("sample institution back-end (a stand-in for institutions' systems)", "url", url)
		getenv = func(name string) (string, bool) {
			if name == "VENTANILLA_SAMPLE_URL" {
				return url, true
			}
			return os.LookupEnv(name)
		}
	}
	a, err := newApp(&c, log, getenv, carriers())
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	defer a.store.Close()
	srv := &http.Server{
		Addr:              c.Addr,
		Handler:           a.echo,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	log.Info("ventanilla listening", "addr", ln.Addr().String(), "flows", strings.Join(a.flows.IDs(), ","), "ussd", "POST /ussd/africastalking")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// measureUSSD is the length of a screen laid out as one USSD page, the
// same layout the channel uses; the lint measures screens with it.
func measureUSSD(s *flows.Screen) int {
	pages := ussd.Paginate(s, 1<<20)
	return len([]rune(pages[0]))
}
