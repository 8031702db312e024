package kannel_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/kanneltest"
)

// wait bounds every wait on Kannel.
const wait = 10 * time.Second

// serve mounts c on a loopback server and starts real Kannel calling it.
func serve(t *testing.T, c carrier.Carrier, path string, hop carrier.Hopper) *kanneltest.Kannel {
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
	hop := &carriertest.Hopper{Answer: func(in carrier.Inbound) carrier.Reply {
		if r, ok := replies[in.Input]; ok {
			return carrier.Reply{Text: r}
		}
		return carrier.Reply{Text: "Recibido: " + in.Input}
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
		calls := hop.Calls()
		in := calls[len(calls)-1]
		want := carrier.Inbound{Channel: "sms", Carrier: "kannel", Phone: "+593991234567", ServiceCode: "4545", Input: "hola  mundo"}
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
	k := serve(t, kannel.NewSMS(kannel.SMSOptions{}), "/sms/kannel", &carriertest.Hopper{})
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

// The USSD adapter behind real Kannel run from the shipped configuration,
// the operator's SMPP gateway played by kanneltest's SMSC: the TLVs reach
// the adapter, and every reply leaves as one message carrying the USSD
// operation and the session, whatever its length and coding.
func TestEndToEndUSSD(t *testing.T) {
	full := strings.Repeat("1234567890", 18) + "ok"      // 182 GSM-7 characters
	fullUCS2 := strings.Repeat("Opción ", 11) + "válida" // 83 characters: transliterated
	shortUCS2 := "Opción válida, señor"
	replies := map[string]carrier.Reply{
		"menu":  {Text: "Elija:\n1. Cédula\n2. Turnos"},
		"full":  {Text: full},
		"ucs2":  {Text: shortUCS2},
		"trans": {Text: fullUCS2},
		"fin":   {Text: "Gracias por usar el servicio.", End: true},
	}
	hop := &carriertest.Hopper{Answer: func(in carrier.Inbound) carrier.Reply {
		if in.Event == carrier.EventBegin {
			return carrier.Reply{Text: "Bienvenido"}
		}
		return replies[in.Input]
	}}
	e := echo.New()
	kannel.NewUSSD(kannel.USSDOptions{}).Mount(e, hop)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	k := kanneltest.Start(t, kanneltest.Options{
		GetURL:     srv.URL + "/sms/kannel?" + kannel.Query,
		USSDGetURL: srv.URL + "/ussd/kannel?" + kannel.Query,
	})

	for i, tt := range []struct {
		input  string
		op     byte
		want   string
		coding byte // SMPP data_coding: 0 GSM-7, 8 UCS-2
		end    bool
	}{
		{"*384#", 0x01, "Bienvenido", 0, false},
		{"menu", 0x12, "Elija:\n1. Cédula\n2. Turnos", 0, false},
		{"full", 0x12, full, 0, false},
		{"ucs2", 0x12, shortUCS2, 8, false},
		{"trans", 0x12, strings.Repeat("Opcion ", 11) + "valida", 0, false},
		{"fin", 0x12, "Gracias por usar el servicio.", 0, true},
	} {
		k.SendUSSD("+593991234567", "*384#", tt.input, tt.op, []byte{0x11, byte(i+1) << 1})
		m, err := k.ReceivedUSSD(wait)
		if err != nil {
			t.Fatalf("%s: %v", tt.input, err)
		}
		if m.Text != tt.want || m.DataCoding != tt.coding || strings.TrimPrefix(m.To, "+") != "593991234567" {
			t.Errorf("%s: got %q (data_coding %d) to %s, want %q (%d)", tt.input, m.Text, m.DataCoding, m.To, tt.want, tt.coding)
		}
		wantOp, wantSI := 0x02, []byte{0x11, byte(i+1) << 1}
		if tt.end {
			wantOp, wantSI[1] = 0x11, wantSI[1]|1
		}
		if m.Op() != wantOp || string(m.TLVs[kanneltest.TagITSSessionInfo]) != string(wantSI) {
			t.Errorf("%s: ussd_service_op %#x its_session_info %x, want %#x %x", tt.input, m.Op(), m.TLVs[kanneltest.TagITSSessionInfo], wantOp, wantSI)
		}
	}
	if in := hop.Calls()[0]; in.Channel != "ussd" || in.SessionID != "+593991234567/s17" || in.ServiceCode != "*384#" ||
		in.Event != carrier.EventBegin || in.Input != "" {
		t.Errorf("first Inbound %+v", in)
	}

	// The handset hung up: Kannel passes the release on, nothing goes back.
	k.SendUSSD("+593991234567", "*384#", "", 0x81, []byte{0x11, 0x0F})
	k.SendUSSD("+593991234567", "*384#", "*384#", 0x01, []byte{0x12, 0x02})
	if m, err := k.ReceivedUSSD(wait); err != nil || m.Text != "Bienvenido" {
		t.Errorf("after a release, the next reply is %q, %v: want the new dialogue's first screen", m.Text, err)
	}
}
