package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
)

// cmdSimulate talks to a flow in the terminal exactly as a feature phone
// on USSD would: the same gateway, rendering and screen limit.
func cmdSimulate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var c config
	fs := flagSet("simulate", stderr, &c)
	phone := fs.String("phone", "+593991234567", "the simulated citizen's number")
	limit := fs.Int("limit", 182, "characters per USSD screen")
	if err := parseFlags(fs, args, &c); err != nil {
		return 2
	}
	getenv := os.LookupEnv
	if _, set := os.LookupEnv("VENTANILLA_SAMPLE_URL"); !set && c.Services == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		backend := &http.Server{Handler: sample.New(sample.Options{}), ReadHeaderTimeout: 5 * time.Second}
		go backend.Serve(ln)
		defer backend.Close()
		url := "http://" + ln.Addr().String()
		getenv = func(name string) (string, bool) {
			if name == "VENTANILLA_SAMPLE_URL" {
				return url, true
			}
			return os.LookupEnv(name)
		}
	}
	if fs.NArg() > 0 {
		c.Routes = "*384#=" + fs.Arg(0)
	}
	a, err := newApp(&c, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})), getenv, nil)
	if err != nil {
		fmt.Fprintf(stderr, "simulate: %v\n", err)
		return 1
	}
	defer a.store.Close()
	fmt.Fprintf(stdout, "Dialling *384# as %s. Type an answer and Enter; Ctrl-D to hang up.\n", *phone)
	in := bufio.NewScanner(stdin)
	session, hop := 1, ""
	for {
		reply, err := a.gateway.Hop(ctx, carrier.Inbound{
			Channel: "ussd", Carrier: "simulator", SessionID: fmt.Sprintf("sim-%d", session),
			Phone: *phone, ServiceCode: "*384#", Input: hop, Limit: *limit,
		})
		if err != nil {
			fmt.Fprintf(stderr, "simulate: %v\n", err)
		}
		fmt.Fprint(stdout, phoneScreen(reply.Text, *limit))
		if reply.End {
			fmt.Fprintln(stdout, "[the session has ended — press Enter to dial again]")
			session++
		}
		fmt.Fprint(stdout, "> ")
		if !in.Scan() {
			fmt.Fprintln(stdout)
			return 0
		}
		hop = in.Text()
		if reply.End {
			hop = ""
		}
	}
}

// phoneScreen frames a screen the way a handset shows it, with its length.
func phoneScreen(text string, limit int) string {
	const width = 32
	var b strings.Builder
	n := utf8.RuneCountInString(text)
	b.WriteString("┌" + strings.Repeat("─", width) + "┐\n")
	for _, line := range strings.Split(text, "\n") {
		for _, l := range wrap(line, width) {
			b.WriteString("│" + l + strings.Repeat(" ", width-utf8.RuneCountInString(l)) + "│\n")
		}
	}
	b.WriteString("└" + strings.Repeat("─", width) + "┘ " + fmt.Sprintf("%d/%d\n", n, limit))
	return b.String()
}

func wrap(line string, width int) []string {
	var out []string
	r := []rune(line)
	for len(r) > width {
		cut := width
		for i := width; i > 0; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, string(r[:cut]))
		r = []rune(strings.TrimLeft(string(r[cut:]), " "))
	}
	return append(out, string(r))
}
