package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/internal/kanneltest"
)

// aviso sends a payment reference by SMS in the language the citizen
// chose, and says so on the screen.
const aviso = `spec_version: 1
id: aviso
version: 1
institution: Example
title: {es: Aviso, en: Notice}
locales: [es, en]
start: lang
steps:
  lang:
    kind: set
    vars:
      locale: '"en"'
      reference: '"PAG-2291"'
    next: send
  send:
    kind: sms
    text: {es: "Su referencia de pago es {{reference}}.", en: "Your payment reference is {{reference}}."}
    next: sent
    on_fail: shown
  sent:
    kind: end
    text: {es: "Le enviamos la referencia por SMS.", en: "We sent you the reference by SMS."}
  shown:
    kind: end
    text: {es: "Su referencia es {{reference}}.", en: "Your reference is {{reference}}."}
`

// An sms step's text goes out through the outbound queue and real
// Kannel's sendsms to the citizen's handset, in the conversation's
// language, while the USSD dialogue goes on.
func TestSMSStepThroughRealKannel(t *testing.T) {
	k := kanneltest.Start(t, kanneltest.Options{GetURL: "http://127.0.0.1:9/sms/kannel?" + kannel.Query})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "aviso.yaml"), []byte(aviso), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"KANNEL_SENDSMS_URL":    k.SendSMSURL,
		"KANNEL_USERNAME":       k.Username,
		"KANNEL_PASSWORD":       k.Password,
		"KANNEL_SMSC":           k.SMSC,
		"KANNEL_FROM":           "4545",
		"VENTANILLA_SAMPLE_URL": "http://127.0.0.1:9",
	}
	getenv := func(key string) (string, bool) { v, ok := env[key]; return v, ok }
	a, err := newApp(&config{Root: "aviso", FlowsDir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	defer a.outbound.close(t.Context())
	defer a.store.Close()
	srv := httptest.NewServer(a.echo)
	defer srv.Close()
	const citizen = "+593991000900"
	d := &dialer{t: t, url: srv.URL, session: "ATUid_sms_step", phone: citizen}
	if reply := d.send(""); reply != "END We sent you the reference by SMS." {
		t.Fatalf("screen %q", reply)
	}
	to, text, err := k.Received(15 * time.Second)
	if err != nil {
		st, _ := a.outbound.queue.Depth(t.Context())
		t.Fatalf("%v (queue depth %d)", err, st)
	}
	if to != citizen || text != "Your payment reference is PAG-2291." {
		t.Errorf("received %q to %s", text, to)
	}
}
