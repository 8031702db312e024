package kanneltest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/kannel/conf"
)

// Timeouts: every wait is bounded.
const (
	readyTimeout = 10 * time.Second // Kannel up, SMSC and smsbox connected
	stopTimeout  = 3 * time.Second  // after SIGTERM, before SIGKILL
	attempts     = 3                // fresh ports when one was taken meanwhile
	// settle is how long a message line waits for a continuation: fakesmsc
	// prints a 7-bit message with a line break as two lines.
	settle = 150 * time.Millisecond
	// pokeEvery is how often a waiting Received nudges fakesmsc.
	pokeEvery = 50 * time.Millisecond
	// maxLine is what fakesmsc reads from stdin at once (256 bytes with
	// the terminating NUL); a longer line would become two messages.
	maxLine = 255
)

// Options configures Start.
type Options struct {
	// GetURL is the SMS sms-service get-url: the handler's URL with
	// Kannel's placeholders, e.g. srv.URL + "/sms/kannel?" + kannel.Query.
	GetURL string
	// USSDGetURL, when set, starts the USSD smsbox of ussd-smsbox.conf
	// with this get-url, e.g. srv.URL + "/ussd/kannel?" + kannel.Query.
	USSDGetURL string
}

// MT is a message Kannel sent towards the handset, as fakesmsc printed it.
// Concatenated parts are joined into one MT.
type MT struct {
	From, To string
	Coding   string // "text" (GSM-7), "data" (8-bit or concatenated) or "ucs-2"
	UDH      []byte // the user data header of a single part, if any
	Text     string
}

// Kannel is a running bearerbox, SMS smsbox and fakesmsc, plus a test SMPP
// SMSC on the USSD link and, with Options.USSDGetURL, the USSD smsbox.
type Kannel struct {
	// SendSMSURL is smsbox's sendsms base URL ("http://127.0.0.1:port");
	// Username and Password are its sendsms-user.
	SendSMSURL         string
	Username, Password string
	// SMSC is the SMS link's smsc-id (fakesmsc's).
	SMSC string
	// Dir holds the configuration files and the logs.
	Dir string

	t      testing.TB
	mu     sync.Mutex // serialises writes to fakesmsc
	stdin  *os.File
	mt     chan MT
	access string
	ussd   *smsc
}

// Binaries are looked up on PATH, then where Debian's packages put them.
var binaries = map[string][]string{
	"bearerbox": {"/usr/sbin/bearerbox"},
	"smsbox":    {"/usr/sbin/smsbox"},
	"fakesmsc":  {"/usr/lib/kannel/test/fakesmsc"},
}

// loud is where a skip is announced beyond the test log, which go test
// shows only with -v.
var loud io.Writer = os.Stderr

func find(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, p := range binaries[name] {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// Start runs Kannel for the test and returns once a message can go through
// it both ways. Everything it starts is stopped by t.Cleanup.
func Start(t testing.TB, opts Options) *Kannel {
	t.Helper()
	paths := map[string]string{}
	var missing []string
	for _, name := range []string{"bearerbox", "smsbox", "fakesmsc"} {
		p, ok := find(name)
		if !ok {
			missing = append(missing, name)
		}
		paths[name] = p
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("Kannel not installed (missing %s): install the Debian packages kannel and kannel-extras (make deps)",
			strings.Join(missing, ", "))
		if os.Getenv("CI") != "" || os.Getenv("VENTANILLA_REQUIRE_KANNEL") == "1" {
			t.Fatal(msg)
		}
		// Loud: a skip is easy to miss in a green run.
		fmt.Fprintf(loud, "\n*** SKIPPING %s: %s ***\n\n", t.Name(), msg)
		t.Skip(msg)
	}
	if opts.GetURL == "" || strings.ContainsAny(opts.GetURL+opts.USSDGetURL, "\"\n\r") {
		t.Fatalf("kanneltest: Options.GetURL %q is empty, or a get-url cannot be quoted in kannel.conf", opts.GetURL)
	}

	var err error
	for i := range attempts {
		dir := filepath.Join(t.TempDir(), "kannel")
		var k *Kannel
		k, err = start(t, dir, paths, opts)
		if err == nil {
			return k
		}
		t.Logf("kanneltest: start attempt %d failed: %v", i+1, err)
	}
	t.Fatalf("kanneltest: Kannel did not start: %v", err)
	return nil
}

func secret() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freePorts reserves n loopback ports and releases them for Kannel. Another
// process may take one meanwhile; Start then tries again with new ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// configure writes the shipped kannel.conf and ussd-smsbox.conf into dir
// with what only a test machine needs changed: loopback ports, fresh
// passwords, logs in dir, fakesmsc on the SMS link, the test SMSC on the
// USSD link and the get-urls. It returns the two files' paths.
func configure(dir string, k *Kannel, opts Options, port map[string]int, statusPW string) ([2]string, error) {
	var paths [2]string
	read := func(name string) (*confFile, error) {
		b, err := conf.Files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		return parseConf(name, string(b))
	}
	main, err := read("kannel.conf")
	if err != nil {
		return paths, err
	}
	ussd, err := read("ussd-smsbox.conf")
	if err != nil {
		return paths, err
	}
	var errs []error
	group := func(f *confFile, kind string, match ...string) *confGroup {
		g, err := f.group(kind, match...)
		if err != nil {
			errs = append(errs, err)
			return &confGroup{vals: map[string]string{}}
		}
		return g
	}
	itoa := strconv.Itoa

	core := group(main, "core")
	core.set("admin-port", itoa(port["admin"]))
	core.set("admin-password", secret())
	core.set("status-password", statusPW)
	core.set("smsbox-port", itoa(port["smsbox"]))
	core.set("log-file", filepath.Join(dir, "bearerbox-file.log"))
	core.set("access-log", k.access)

	// The SMS link: fakesmsc stands in for the operator's SMSC.
	sms := group(main, "smsc", "smsc-id", "sms")
	k.SMSC = sms.get("smsc-id")
	sms.set("smsc", "fake")
	sms.set("port", itoa(port["fake"]))
	sms.set("our-host", "127.0.0.1")
	sms.set("connect-allow-ip", "127.0.0.1")

	// The USSD link: SMPP, to the test SMSC.
	link := group(main, "smsc", "smsc-id", "ussd")
	link.set("host", "127.0.0.1")
	link.set("port", itoa(port["ussd"]))
	link.set("smsc-username", k.ussd.user)
	link.set("smsc-password", k.ussd.pass)

	box := group(main, "smsbox", "smsbox-id", "")
	box.set("sendsms-port", itoa(port["sendsms"]))
	box.set("log-file", filepath.Join(dir, "smsbox-file.log"))
	group(main, "sms-service").set("get-url", opts.GetURL)
	user := group(main, "sendsms-user")
	k.Username = user.get("username")
	user.set("password", k.Password)

	group(ussd, "core").set("smsbox-port", itoa(port["smsbox"]))
	group(ussd, "smsbox").set("log-file", filepath.Join(dir, "ussd-smsbox-file.log"))
	group(ussd, "sms-service").set("get-url", opts.USSDGetURL)
	if err := errors.Join(errs...); err != nil {
		return paths, fmt.Errorf("the shipped configuration changed shape: %w", err)
	}

	for i, f := range []*confFile{main, ussd} {
		paths[i] = filepath.Join(dir, f.name)
		if err := os.WriteFile(paths[i], []byte(f.String()), 0o600); err != nil {
			return paths, err
		}
	}
	return paths, nil
}

func start(t testing.TB, dir string, paths map[string]string, opts Options) (_ *Kannel, err error) {
	// A failed attempt stops what it started at once, not at the end of
	// the test: the next attempt should not compete with it.
	var started []*proc
	defer func() {
		if err != nil {
			for _, p := range started {
				p.stop()
			}
		}
	}()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	admin, smsboxPort, fake, sendsms := ports[0], ports[1], ports[2], ports[3]
	statusPW := secret()
	k := &Kannel{
		SendSMSURL: "http://127.0.0.1:" + strconv.Itoa(sendsms),
		Password:   secret(),
		Dir:        dir,
		t:          t,
		mt:         make(chan MT, 256),
		access:     filepath.Join(dir, "access.log"),
	}
	k.ussd, err = newSMSC("ussd"+secret()[:6], secret()[:8])
	if err != nil {
		return nil, err
	}
	t.Cleanup(k.ussd.close)
	defer func() {
		if err != nil {
			k.ussd.close() // now: the next attempt binds anew
		}
	}()
	files, err := configure(dir, k, opts, map[string]int{
		"admin": admin, "smsbox": smsboxPort, "fake": fake, "sendsms": sendsms, "ussd": k.ussd.port(),
	}, statusPW)
	if err != nil {
		return nil, err
	}
	confPath, ussdPath := files[0], files[1]
	// Registered first, run last: the logs are complete by then.
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"bearerbox.log", "smsbox.log", "ussd-smsbox.log", "fakesmsc.log", "access.log"} {
				t.Logf("kanneltest: last lines of %s:\n%s", name, tail(filepath.Join(dir, name), 30))
			}
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	statusURL := fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=%s", admin, statusPW)

	bb, err := run(t, dir, "bearerbox", paths["bearerbox"], nil, nil, "-v", "0", confPath)
	if err != nil {
		return nil, err
	}
	started = append(started, bb)
	if err := waitFor(ctx, bb, "bearerbox admin port", func() bool {
		_, err := status(statusURL)
		return err == nil
	}); err != nil {
		return nil, err
	}

	// fakesmsc connects to the fake SMSC and then reads messages to
	// inject from stdin; it prints what Kannel sends (at debug level).
	outR, outW := io.Pipe()
	// An OS pipe, not io.Pipe: exec would otherwise copy stdin in a
	// goroutine that keeps Wait from returning while the pipe is open.
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	fk, err := run(t, dir, "fakesmsc", paths["fakesmsc"], stdinR, outW,
		"-H", "127.0.0.1", "-r", strconv.Itoa(fake), "-i", "0", "-v", "0")
	stdinR.Close() // the child holds its own copy
	if err != nil {
		stdinW.Close()
		return nil, err
	}
	started = append(started, fk)
	k.stdin = stdinW
	// Closing its input is how fakesmsc is told to finish; runs before
	// the stop registered by run.
	t.Cleanup(func() { stdinW.Close() })
	go k.assemble(lines(fk.log, outR))

	sb, err := run(t, dir, "smsbox", paths["smsbox"], nil, nil, "-v", "0", confPath)
	if err != nil {
		return nil, err
	}
	started = append(started, sb)
	procs, boxes := []*proc{bb, fk, sb}, 1
	if opts.USSDGetURL != "" {
		ub, err := run(t, dir, "ussd-smsbox", paths["smsbox"], nil, nil, "-v", "0", ussdPath)
		if err != nil {
			return nil, err
		}
		started = append(started, ub)
		procs, boxes = append(procs, ub), 2
	}
	err = waitFor(ctx, nil, "SMSCs and smsboxes connected", func() bool {
		for _, p := range procs {
			if p.exited() {
				return false
			}
		}
		select {
		case <-k.ussd.bound:
		default:
			return false
		}
		s, err := status(statusURL)
		if err != nil || !strings.Contains(s, "FAKE:"+strconv.Itoa(fake)+" (online") ||
			strings.Count(s, "(online") != 2 || len(smsboxOnline.FindAllString(s, -1)) != boxes {
			return false
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(sendsms), 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if err != nil {
		for _, p := range procs {
			if p.exited() {
				return nil, fmt.Errorf("%s exited early (see %s.log)", p.name, p.name)
			}
		}
		return nil, err
	}
	return k, nil
}

func status(u string) (string, error) {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), nil
}

// waitFor polls ok until it holds, p exits or ctx ends.
func waitFor(ctx context.Context, p *proc, what string, ok func() bool) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if ok() {
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited while waiting for %s (see %s.log)", p.name, what, p.name)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// proc is one Kannel process, its output going to dir/name.log.
type proc struct {
	name     string
	cmd      *exec.Cmd
	log      *os.File
	done     chan struct{}
	stopOnce sync.Once
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// run starts one process. Its output goes to dir/name.log, or to out
// (closed when the process exits) for a caller that reads it.
func run(t testing.TB, dir, name, path string, stdin io.Reader, out io.WriteCloser, args ...string) (*proc, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, log: logf, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Dir = dir
	p.cmd.Stdin = stdin
	// Its own process group, so that a stop reaches every child; and
	// killed with the test binary should that die first.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	w := io.Writer(logf)
	if out != nil {
		w = out
	}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		if out != nil {
			out.Close()
		}
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p, nil
}

// stop ends the process: SIGTERM to its group, SIGKILL after stopTimeout.
// It is safe to call more than once.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		defer p.log.Close()
		if p.exited() {
			return
		}
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
	})
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// lines copies r to logf and yields its lines.
func lines(logf *os.File, r io.Reader) <-chan string {
	out := make(chan string, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(io.TeeReader(r, logf))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			out <- sc.Text()
		}
	}()
	return out
}

// smsboxOnline is the status.txt line of a connected smsbox.
var smsboxOnline = regexp.MustCompile(`smsbox:\S*, IP 127\.0\.0\.1 .*on-line`)

// gotMessage is how fakesmsc prints a message Kannel sent it.
var gotMessage = regexp.MustCompile(`Got message \d+: <(.*)>$`)

// header is the start of a message line: sender, receiver, type.
var header = regexp.MustCompile(`^(\S+) (\S+) (text|data|ucs-2|udh) (.*)$`)

// assemble turns fakesmsc's output into MTs: a line that does not start a
// message continues the previous one (a 7-bit text with a line break), and
// concatenated parts are joined once all have come.
func (k *Kannel) assemble(in <-chan string) {
	defer close(k.mt)
	var pending *MT
	parts := map[string][][]byte{} // by sender, receiver and reference
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if pending != nil {
			k.mt <- *pending
			pending = nil
		}
	}
	for {
		select {
		case line, ok := <-in:
			if !ok {
				flush()
				return
			}
			m := gotMessage.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			h := header.FindStringSubmatch(m[1])
			if h == nil {
				if pending != nil && pending.Coding == "text" {
					pending.Text += "\n" + m[1]
				}
				timer.Reset(settle)
				continue
			}
			flush()
			mt, ref, part, total, ok := parseMT(h)
			if !ok {
				continue
			}
			if total > 1 {
				key := mt.From + " " + mt.To + " " + ref
				ps := parts[key]
				if ps == nil {
					ps = make([][]byte, total)
					parts[key] = ps
				}
				if part >= 1 && part <= total {
					ps[part-1] = []byte(mt.Text)
				}
				if complete(ps) {
					delete(parts, key)
					mt.Text, mt.UDH = joinParts(ps), nil
					k.mt <- mt
				}
				continue
			}
			pending = &mt
			timer.Reset(settle)
		case <-timer.C:
			flush()
		}
	}
}

// parseMT reads "from to text …", "from to data <urlenc>", "from to ucs-2
// <urlenc>" or "from to udh <urlenc> data <urlenc>" (how Kannel's fake
// SMSC writes messages). For a part of a concatenated message it returns
// the reference, part number and total from the UDH.
func parseMT(h []string) (mt MT, ref string, part, total int, ok bool) {
	mt = MT{From: h[1], To: h[2], Coding: h[3]}
	rest := h[4]
	switch mt.Coding {
	case "text":
		mt.Text = rest
	case "data":
		b, err := url.QueryUnescape(rest)
		if err != nil {
			return mt, "", 0, 0, false
		}
		mt.Text = b
	case "ucs-2":
		b, err := url.QueryUnescape(rest)
		if err != nil {
			return mt, "", 0, 0, false
		}
		mt.Text = fromUTF16BE([]byte(b))
	case "udh":
		u, d, found := strings.Cut(rest, " data ")
		if !found {
			return mt, "", 0, 0, false
		}
		udh, err1 := url.QueryUnescape(u)
		data, err2 := url.QueryUnescape(d)
		if err1 != nil || err2 != nil {
			return mt, "", 0, 0, false
		}
		mt.Coding, mt.UDH, mt.Text = "data", []byte(udh), data
		ref, part, total = concat(mt.UDH)
	}
	return mt, ref, part, total, true
}

// concat finds the concatenation element (IEI 0x00, 8-bit reference, or
// 0x08, 16-bit) in a UDH.
func concat(udh []byte) (ref string, part, total int) {
	if len(udh) == 0 || int(udh[0]) != len(udh)-1 {
		return "", 0, 0
	}
	for i := 1; i+1 < len(udh); {
		iei, l := udh[i], int(udh[i+1])
		v := udh[i+2:]
		if len(v) < l {
			return "", 0, 0
		}
		v = v[:l]
		switch {
		case iei == 0x00 && l == 3:
			return strconv.Itoa(int(v[0])), int(v[2]), int(v[1])
		case iei == 0x08 && l == 4:
			return strconv.Itoa(int(v[0])<<8 | int(v[1])), int(v[3]), int(v[2])
		}
		i += 2 + l
	}
	return "", 0, 0
}

func complete(ps [][]byte) bool {
	for _, p := range ps {
		if p == nil {
			return false
		}
	}
	return true
}

// joinParts joins the parts' payloads. fakesmsc's line does not say their
// coding: UTF-16BE is assumed when the payload cannot be UTF-8 text
// (invalid UTF-8 or NUL octets, which Spanish UTF-16BE always has).
func joinParts(ps [][]byte) string {
	var b []byte
	for _, p := range ps {
		b = append(b, p...)
	}
	if utf8.Valid(b) && !strings.ContainsRune(string(b), 0) {
		return string(b)
	}
	return fromUTF16BE(b)
}

func fromUTF16BE(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u))
}

// Inject sends a message from the handset side, as if the SMSC had
// received it: a 7-bit message whose text Kannel takes as UTF-8. The text
// must fit one fakesmsc line (no line breaks, 255 bytes in all).
func (k *Kannel) Inject(from, to, text string) {
	k.t.Helper()
	k.inject(from, to, "text", text)
}

// InjectUCS2 sends a UCS-2 message from the handset side (Kannel passes it
// on as coding 2, UTF-16BE). Its URL-encoded UTF-16 must fit one fakesmsc
// line: about 40 characters.
func (k *Kannel) InjectUCS2(from, to, text string) {
	k.t.Helper()
	u := utf16.Encode([]rune(text))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	k.inject(from, to, "ucs2", url.QueryEscape(string(b)))
}

func (k *Kannel) inject(from, to, kind, payload string) {
	k.t.Helper()
	line := from + " " + to + " " + kind + " " + payload + "\n"
	switch {
	case from == "" || to == "" || strings.ContainsAny(from+to, " \t\r\n"):
		k.t.Fatalf("kanneltest: Inject: sender %q and receiver %q must be single words", from, to)
	case strings.ContainsAny(payload, "\r\n"):
		k.t.Fatalf("kanneltest: Inject: fakesmsc takes one line per message; the text has a line break")
	case len(line) > maxLine:
		k.t.Fatalf("kanneltest: Inject: line of %d bytes; fakesmsc reads at most %d", len(line), maxLine)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.stdin.SetWriteDeadline(time.Now().Add(readyTimeout)); err == nil {
		defer k.stdin.SetWriteDeadline(time.Time{})
	}
	if _, err := io.WriteString(k.stdin, line); err != nil {
		k.t.Fatalf("kanneltest: Inject: writing to fakesmsc: %v", err)
	}
}

// Received returns the next message Kannel sent towards the handset: its
// receiver and text (decoded from UCS-2, parts joined), waiting at most
// timeout.
func (k *Kannel) Received(timeout time.Duration) (to, text string, err error) {
	mt, err := k.ReceivedMT(timeout)
	return mt.To, mt.Text, err
}

// ReceivedMT is Received with everything fakesmsc showed of the message.
func (k *Kannel) ReceivedMT(timeout time.Duration) (MT, error) {
	deadline := time.After(timeout)
	// fakesmsc looks at what Kannel sent only between reads of its input,
	// which wait up to a second; an empty line makes it look at once.
	poke := time.NewTicker(pokeEvery)
	defer poke.Stop()
	for {
		select {
		case mt, ok := <-k.mt:
			if !ok {
				return MT{}, errors.New("kanneltest: fakesmsc has exited")
			}
			return mt, nil
		case <-poke.C:
			k.mu.Lock()
			_, _ = k.stdin.Write([]byte("\n"))
			k.mu.Unlock()
		case <-deadline:
			return MT{}, fmt.Errorf("kanneltest: no message from Kannel within %v", timeout)
		}
	}
}

// AccessLog returns bearerbox's access log so far: one line per message
// received and sent, meta-data included ("[META:?smpp?…]").
func (k *Kannel) AccessLog() string {
	b, _ := os.ReadFile(k.access)
	return string(b)
}

// SendUSSD delivers a USSD message from the handset over the USSD link's
// SMPP bind, as the operator's gateway would: from the citizen's number to
// the service (to), with text, the ussd_service_op op and, unless nil,
// its_session_info's two octets. Kannel hands it to the USSD smsbox.
func (k *Kannel) SendUSSD(from, to, text string, op byte, session []byte) {
	k.t.Helper()
	if err := k.ussd.deliver(from, to, text, op, session); err != nil {
		k.t.Fatalf("kanneltest: SendUSSD: %v", err)
	}
}

// ReceivedUSSD returns the next message Kannel sent on the USSD link
// (a submit_sm), waiting at most timeout.
func (k *Kannel) ReceivedUSSD(timeout time.Duration) (USSD, error) {
	select {
	case m := <-k.ussd.submits:
		return m, nil
	case err := <-k.ussd.errs:
		return USSD{}, err
	case <-time.After(timeout):
		return USSD{}, fmt.Errorf("kanneltest: no USSD message from Kannel within %v", timeout)
	}
}
