package main

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// acme is an SMS carrier that exists only in this test: a callback that
// answers in its response, and a sender. It stands for the next SMS
// carrier the product adds, to show what one entry in the registry gives.
type acme struct{}

func (acme) Name() string { return "acme-sms" }

func (acme) Mount(r carrier.Router, h carrier.Hopper) {
	r.Add(http.MethodPost, "/sms/acme", func(c echo.Context) error {
		from := c.FormValue("from")
		reply, err := h.Hop(c.Request().Context(), carrier.Inbound{Channel: "sms", Carrier: "acme-sms", SessionID: from, Phone: from, Input: c.FormValue("text")})
		if err != nil {
			return c.String(http.StatusInternalServerError, "error\n")
		}
		return c.String(http.StatusOK, reply.Text)
	})
}

type acmeSender struct{}

func (acmeSender) Name() string                                { return "acme-sms" }
func (acmeSender) Send(context.Context, carrier.Message) error { return nil }

var acmeEntry = carrierEntry{
	name: "acme-sms", title: "Acme", kind: kindSMS,
	env: []envVar{
		{name: "ACME_API_KEY", doc: "Acme's API key", secret: true, required: true},
		{name: "ACME_FROM", doc: "our short code at Acme"},
	},
	senders: []string{"acme-sms"},
	sender: func(b *carrierBuild) ([]carrier.Sender, error) {
		if !b.needs("sender", "ACME_API_KEY") {
			return nil, nil
		}
		return []carrier.Sender{acmeSender{}}, nil
	},
	handler: func(b *carrierBuild) (inbound, error) { return inbound{carrier: acme{}}, nil },
}

// An SMS carrier is its package and one entry in the registry: with that
// alone the carriers file knows its name (and its misspelling), it is
// mounted behind its callback authentication and budget, its hops are
// counted, its sender is on and takes the gateway's own SMS and its place
// in the failover chain, --outbound-rates knows it, the start-up log, the
// docs and --help list it and its variables.
func TestAnSMSCarrierIsOneEntry(t *testing.T) {
	list := append(slices.Clone(registry), acmeEntry)
	env := map[string]string{"ACME_API_KEY": "k", "ACME_CALLBACK_PASSWORD": "acme-callback-password", "KANNEL_SENDSMS_URL": "http://127.0.0.1:1/cgi-bin/sendsms"}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	misspelt := writeFile(t, "misspelt.yaml", "carriers:\n  acme-smss: {budget: 2s}\n")
	if _, err := loadCarriers(misspelt, getenv, list); err == nil || !strings.Contains(err.Error(), `(did you mean "acme-sms"?)`) {
		t.Errorf("a misspelt name of the new carrier: %v", err)
	}
	file := writeFile(t, "carriers.yaml", "carriers:\n  acme-sms: {budget: 2s, basic_user: acme, basic_password_env: ACME_CALLBACK_PASSWORD}\n")
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	a, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords, Carriers: file, OutboundRates: "acme-sms=5"}, log, getenv, list)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.outbound.close(context.Background()); a.store.Close() })
	ts := httptest.NewServer(a.echo)
	t.Cleanup(ts.Close)
	srv := ts.URL

	form := url.Values{"from": {"+593991000600"}, "text": {"TURNO"}}
	if code, _ := postForm(t, srv+"/sms/acme", form, nil); code != http.StatusUnauthorized {
		t.Errorf("without its basic authentication: %d, want 401", code)
	}
	auth := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("acme:acme-callback-password"))}
	if code, body := postForm(t, srv+"/sms/acme", form, auth); code != http.StatusOK || !strings.Contains(body, "Turnos") {
		t.Errorf("an SMS through it: %d %q", code, body)
	}
	if _, body := get(t, srv+"/metrics"); !strings.Contains(body, `carrier="acme-sms"`) {
		t.Errorf("its hops are not counted:\n%s", body)
	}
	out := logs.String()
	for _, want := range []string{
		`msg="carrier on" carrier=acme-sms callback_auth=basic budget=2s`,
		`msg="sender on" carrier=acme-sms`,
		`msg=carriers on=africastalking,hubtel,nalo,generic,kannel-ussd,kannel-sms,acme-sms`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("start log lacks %s:\n%s", want, out)
		}
	}
	// Kannel comes first in the list, so it sends the gateway's own SMS;
	// the two fail over to each other.
	if a.outbound.sms != "kannel-sms" {
		t.Errorf("the gateway's own SMS go by %q, want kannel-sms", a.outbound.sms)
	}
	senders := map[string]carrier.Sender{"kannel-sms": namedSender("kannel-sms"), "acme-sms": acmeSender{}}
	if got := smsFailover(smsOrder(list), senders); got["kannel-sms"] != "acme-sms" || got["acme-sms"] != "kannel-sms" {
		t.Errorf("failover %v", got)
	}
	for what, text := range map[string]string{"docs": carriersReference(list), "--help": carriersHelp(list)} {
		for _, want := range []string{"acme-sms", "ACME_API_KEY", "ACME_FROM"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lack %s", what, want)
			}
		}
	}
	if !strings.Contains(smsTitles(list), "or Acme") {
		t.Errorf("the SMS carriers named to people: %s", smsTitles(list))
	}
}

// An entry reading a variable it does not declare is refused at once:
// --help and the docs would not list it.
func TestACarrierReadsOnlyWhatItDeclares(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("reading an undeclared variable did not panic")
		}
	}()
	b := &carrierBuild{entry: &acmeEntry, getenv: func(string) (string, bool) { return "", false }}
	b.get("ACME_SECRET")
}
