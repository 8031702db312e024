package kannel_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"ventanilla/carriers/kannel"
	"ventanilla/carriers/kannel/kanneltest"
	"ventanilla/channels"
)

// wait bounds every wait on Kannel.
const wait = 10 * time.Second

// serve mounts c on a loopback server and starts real Kannel calling it.
func serve(t *testing.T, c channels.Carrier, path string, hop channels.Hopper) *kanneltest.Kannel {
	t.Helper()
	e := echo.New()
	c.Mount(e, hop)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return kanneltest.Start(t, kanneltest.Options{GetURL: srv.URL + path + "?" + kannel.Query})
}

// The whole way: fakesmsc → bearerbox → smsbox → the SMS adapter → the
// hopper, and the reply back through smsbox and bearerbox to fakesmsc.
func TestEndToEndSMS(t *testing.T) {
	replies := map[string]string{
		"acento":   "Opción válida, señor",
		"menu":     "Elija:\n1. Turno\n2. Cita",
		"silencio": "",
	}
	hop := &fakeHopper{answer: func(in channels.Inbound) channels.Reply {
		if r, ok := replies[in.Input]; ok {
			return channels.Reply{Text: r}
		}
		return channels.Reply{Text: "Recibido: " + in.Input}
	}}
	k := serve(t, kannel.NewSMS(kannel.SMSOptions{}), "/sms/kannel", hop)

	expect := func(t *testing.T, wantText string) {
		t.Helper()
		to, text, err := k.Received(wait)
		if err != nil {
			t.Fatal(err)
		}
		if to != "+593991234567" || text != wantText {
			t.Errorf("got %q to %q, want %q to +593991234567", text, to, wantText)
		}
	}

	t.Run("echo", func(t *testing.T) {
		k.Inject("+593991234567", "4545", "hola  mundo")
		expect(t, "Recibido: hola  mundo")
		calls := hop.got()
		in := calls[len(calls)-1]
		want := channels.Inbound{Channel: "sms", Carrier: "kannel", Phone: "+593991234567", ServiceCode: "4545", Input: "hola  mundo"}
		if in != want {
			t.Errorf("Inbound:\n got %+v\nwant %+v", in, want)
		}
	})
	t.Run("accented reply arrives intact as ucs-2", func(t *testing.T) {
		k.Inject("+593991234567", "4545", "acento")
		mt, err := k.ReceivedMT(wait)
		if err != nil {
			t.Fatal(err)
		}
		if mt.Text != "Opción válida, señor" || mt.Coding != "ucs-2" {
			t.Errorf("got %q as %s", mt.Text, mt.Coding)
		}
	})
	t.Run("ucs-2 message from the handset", func(t *testing.T) {
		k.InjectUCS2("+593991234567", "4545", "Ñandú, sí")
		expect(t, "Recibido: Ñandú, sí")
	})
	t.Run("utf-8 accents in a 7-bit message", func(t *testing.T) {
		k.Inject("+593991234567", "4545", "José Ñuñez")
		// é and Ñ are GSM-7, so the reply stays 7-bit.
		expect(t, "Recibido: José Ñuñez")
	})
	t.Run("multi-line gsm-7 reply", func(t *testing.T) {
		k.Inject("+593991234567", "4545", "menu")
		expect(t, "Elija:\n1. Turno\n2. Cita")
	})
	t.Run("empty reply sends nothing", func(t *testing.T) {
		k.Inject("+593991234567", "4545", "silencio")
		k.Inject("+593991234567", "4545", "despues")
		// Kannel keeps order: had "silencio" produced a message, it
		// would come first.
		expect(t, "Recibido: despues")
	})
	t.Run("long reply concatenated by kannel", func(t *testing.T) {
		long := strings.Repeat("Su cita es el martes. ", 10) // 220 characters: 2 parts
		replies["largo"] = long
		k.Inject("+593991234567", "4545", "largo")
		mt, err := k.ReceivedMT(wait)
		if err != nil {
			t.Fatal(err)
		}
		if mt.Text != long {
			t.Errorf("got %q", mt.Text)
		}
	})
}

func TestEndToEndSender(t *testing.T) {
	k := serve(t, kannel.NewSMS(kannel.SMSOptions{}), "/sms/kannel", &fakeHopper{})
	snd := &kannel.Sender{BaseURL: k.SendSMSURL, Username: k.Username, Password: k.Password, From: "4545"}
	for _, text := range []string{"Su turno: martes 10h00", "Opción válida, señor"} {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		err := snd.Send(ctx, "+593991234567", text)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		mt, err := k.ReceivedMT(wait)
		if err != nil {
			t.Fatal(err)
		}
		if mt.To != "+593991234567" || mt.From != "4545" || mt.Text != text {
			t.Errorf("got %+v, want %q from 4545 to +593991234567", mt, text)
		}
	}
	bad := *snd
	bad.Password = "wrong"
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := bad.Send(ctx, "+593991234567", "x"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("wrong password: %v", err)
	}
}

// fakesmsc cannot send SMPP TLVs, so the calls arrive without
// ussd_service_op and are continuing hops. What this shows, with Kannel
// configured as testdata/kannel-ussd.conf says, is that real smsbox takes
// the reply's X-Kannel-Meta-Data (bearerbox logs the meta-data it hands to
// the SMPP module) and coding, and that a full screen goes as one message.
func TestEndToEndUSSD(t *testing.T) {
	full := strings.Repeat("1234567890", 18) + "ok"      // 182 GSM-7 characters
	fullUCS2 := strings.Repeat("Opción ", 11) + "válida" // 83 characters: transliterated
	shortUCS2 := "Opción válida, señor"
	replies := map[string]channels.Reply{
		"menu":  {Text: "Elija:\n1. Cédula\n2. Turnos"},
		"full":  {Text: full},
		"ucs2":  {Text: shortUCS2},
		"trans": {Text: fullUCS2},
		"fin":   {Text: "Gracias por usar el servicio.", End: true},
	}
	hop := &fakeHopper{answer: func(in channels.Inbound) channels.Reply { return replies[in.Input] }}
	e := echo.New()
	kannel.NewUSSD(kannel.USSDOptions{}).Mount(e, hop)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	k := kanneltest.Start(t, kanneltest.Options{GetURL: srv.URL + "/ussd/kannel?" + kannel.Query, USSD: true})

	for _, tt := range []struct{ input, want, coding string }{
		{"menu", "Elija:\n1. Cédula\n2. Turnos", "text"},
		{"full", full, "text"},
		{"ucs2", shortUCS2, "ucs-2"},
		{"trans", strings.Repeat("Opcion ", 11) + "valida", "text"},
		{"fin", "Gracias por usar el servicio.", "text"},
	} {
		k.Inject("+593991234567", "*384#", tt.input)
		mt, err := k.ReceivedMT(wait)
		if err != nil {
			t.Fatalf("%s: %v", tt.input, err)
		}
		if mt.Text != tt.want || mt.Coding != tt.coding || mt.To != "+593991234567" {
			t.Errorf("%s: got %q as %s to %s, want %q as %s", tt.input, mt.Text, mt.Coding, mt.To, tt.want, tt.coding)
		}
	}
	log := k.AccessLog()
	if n := strings.Count(log, "[META:?smpp?ussd_service_op=%02]"); n != 4 {
		t.Errorf("%d replies asked for an answer (USSR request), want 4:\n%s", n, log)
	}
	if n := strings.Count(log, "[META:?smpp?ussd_service_op=%11]"); n != 1 {
		t.Errorf("%d replies ended the session (PSSR response), want 1:\n%s", n, log)
	}
	if in := hop.got()[0]; in.Channel != "ussd" || in.SessionID != "+593991234567" || in.ServiceCode != "*384#" {
		t.Errorf("Inbound %+v", in)
	}
}
