package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"ventanilla/internal/privacy"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A whole booking, with the debug log on and the audit trail written: the
// logs hold none of the citizen's identifiers, and the audit trail holds a
// pseudonym, never the number or the cédula.
func TestLogsAndAuditHoldNoIdentifiers(t *testing.T) {
	const phone, cedula = "+593991000777", "1714307103"
	key := strings.Repeat("k", 32)
	p, err := privacy.NewPseudonymizer([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	log := slog.New(privacy.NewHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}), p))
	dir := t.TempDir()
	c := &config{AuditDir: dir, pseudo: p}
	srv, a := gatewayLogging(t, c, log)

	d := &dialer{t: t, url: srv.URL, session: "privacy", phone: phone}
	for _, in := range []string{"", "1", "1", "1", "1", "1", cedula, "1"} {
		d.send(in)
	}
	// An error path too: a procedure that does not exist.
	d = &dialer{t: t, url: srv.URL, session: "privacy-2", phone: phone}
	for _, in := range []string{"", "2", "99999"} {
		d.send(in)
	}

	out := logs.String()
	if out == "" {
		t.Fatal("no logs at all: the test would prove nothing")
	}
	for _, id := range []string{phone, strings.TrimPrefix(phone, "+"), "0991000777", cedula} {
		if strings.Contains(out, id) {
			t.Errorf("logs contain %q:\n%s", id, out)
		}
	}

	// The audit trail is flushed when its writer closes.
	if err := a.audit.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("audit files: %v", files)
	}
	data, _ := os.ReadFile(files[0])
	for _, id := range []string{phone, strings.TrimPrefix(phone, "+"), cedula} {
		if bytes.Contains(data, []byte(id)) {
			t.Errorf("audit trail contains %q", id)
		}
	}
	kinds := map[string]int{}
	want := p.ID(privacy.KindPhone, phone)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		if rec["citizen"] != want {
			t.Errorf("citizen %v, want the pseudonym %s", rec["citizen"], want)
		}
		kinds[rec["kind"].(string)+"/"+rec["outcome"].(string)]++
	}
	for _, k := range []string{"call/ok", "call/not_found", "outcome/completed"} {
		if kinds[k] == 0 {
			t.Errorf("no %s record in %v", k, kinds)
		}
	}
}
