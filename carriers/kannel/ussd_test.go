package kannel_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const ussdPath = "/ussd/kannel"

func ussdIn(session, input string, ev carrier.Event, status string) *carrier.Inbound {
	return &carrier.Inbound{
		Channel: "ussd", Carrier: "kannel",
		SessionID: session, Phone: "+593991234567", ServiceCode: "*384#",
		Input: input, Limit: 182, Event: ev, EndStatus: status,
		BeginIsNew: ev == carrier.EventBegin,
	}
}

const withSession = "+593991234567/s17"

// dialled sets the service code a PSSR indication's text dialled.
func dialled(in *carrier.Inbound, code string) *carrier.Inbound {
	in.ServiceCode = code
	return in
}

func TestUSSDCalls(t *testing.T) {
	s := carriertest.Suite{
		New: func(_ *testing.T, c carriertest.Case) (carrier.Carrier, func(*testing.T, carriertest.Result)) {
			return kannel.NewUSSD(kannel.USSDOptions{}), func(t *testing.T, r carriertest.Result) {
				if c.WantStatus == http.StatusAccepted && (r.Rec.Body.Len() != 0 || r.Rec.Header().Get("X-Kannel-Meta-Data") != "") {
					t.Errorf("an ended session must get nothing back: %q %v", r.Rec.Body.String(), r.Rec.Header())
				}
			}
		},
		Path: ussdPath, InQuery: true,
		Hop: carrier.Reply{Text: "Elija:\n1. Turno"},
	}
	carriertest.Run(t, s, []carriertest.Case{
		{Name: "pssr indication begins with the dialled string as the service code", File: "ussd_begin.query", WantStatus: 200,
			WantIn: dialled(ussdIn(withSession, "", carrier.EventBegin, ""), "*384*2#")},
		{Name: "pssr indication without text dials the receiver", File: "ussd_begin_empty.query", WantStatus: 200,
			WantIn: ussdIn(withSession, "", carrier.EventBegin, "")},
		{Name: "pssr indication with text that is not a dial string dials the receiver", File: "ussd_begin_not_dialled.query", WantStatus: 200,
			WantIn: ussdIn(withSession, "", carrier.EventBegin, "")},
		{Name: "ussr confirm continues with the answer", File: "ussd_answer.query", WantStatus: 200,
			WantIn: ussdIn(withSession, "2", carrier.EventContinue, "")},
		{Name: "ucs-2 answer decoded", File: "ussd_answer_ucs2.query", WantStatus: 200,
			WantIn: ussdIn(withSession, "José", carrier.EventContinue, "")},
		{Name: "release ends", File: "ussd_release.query", WantStatus: 202,
			WantIn: ussdIn(withSession, "", carrier.EventEnd, "Release")},
		{Name: "end-of-session flag ends", File: "ussd_end_flag.query", WantStatus: 202,
			WantIn: ussdIn(withSession, "", carrier.EventEnd, "Release")},
		{Name: "pssd indication ends", File: "ussd_pssd.query", WantStatus: 202,
			WantIn: ussdIn("+593991234567", "", carrier.EventEnd, "PSSD")},
		{Name: "no meta-data: a continuing hop keyed by phone", File: "ussd_no_meta.query", WantStatus: 200,
			WantIn: ussdIn("+593991234567", "1", carrier.EventContinue, "")},
		{Name: "no session info: keyed by phone", File: "ussd_no_session_info.query", WantStatus: 200,
			WantIn: ussdIn("+593991234567", "", carrier.EventBegin, "")},
		{Name: "decimal meta-data", File: "ussd_decimal_meta.query", WantStatus: 200,
			WantIn: ussdIn(withSession, "3", carrier.EventContinue, "")},
	})
}

// smsbox relays any answer but a 2xx as its reply-requestfailed text in a
// plain message, without the USSD TLVs, so the operator never closes the
// dialogue. A call the adapter cannot accept therefore still gets a final
// USSD screen (PSSR response, its_session_info echoed with the end flag
// when it could be read), and touches no session; the log says why.
func TestUSSDRefusedCallsEndTheDialogue(t *testing.T) {
	tests := []struct {
		name, file string
		wantSI     string // raw octets; "" when it could not be read
		wantLog    string
	}{
		{"network operation from a handset", "ussd_network_op.query", "\x11\x03", "meta: ussd_service_op 0x02 is not"},
		{"meta without group", "ussd_meta_without_group.query", "", "meta: does not start"},
		{"session info of one octet", "ussd_session_info_one_octet.query", "", "meta: its_session_info"},
		{"text over 182 characters", "ussd_text_too_long.query", "\x11\x05", "text: longer"},
		{"line break", "ussd_line_break.query", "\x11\x05", "text: contains control"},
		{"bad phone", "ussd_bad_phone.query", "\x11\x05", "from: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			prev := slog.Default()
			slog.SetDefault(slog.New(slog.NewTextHandler(&log, nil)))
			defer slog.SetDefault(prev)
			hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija:\n1. Turno"}}
			rec := get(kannel.NewUSSD(kannel.USSDOptions{}), hop, ussdPath, string(carriertest.Testdata(t, tt.file)))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200; body %q", rec.Code, rec.Body.String())
			}
			if len(hop.Calls()) != 0 {
				t.Fatalf("hopper called with %+v for a refused call", hop.Calls()[0])
			}
			if got := rec.Body.String(); got != "Servicio no disponible. Intente más tarde." {
				t.Errorf("body %q", got)
			}
			if got := rec.Header().Get("X-Kannel-Coding"); got != "2" {
				t.Errorf("X-Kannel-Coding %q, want 2", got)
			}
			meta := replyMeta(t, rec.Header().Get("X-Kannel-Meta-Data"))
			if got := meta.Get("ussd_service_op"); got != "\x11" {
				t.Errorf("ussd_service_op %q, want PSSR response", got)
			}
			if got := meta.Get("its_session_info"); got != tt.wantSI {
				t.Errorf("its_session_info %q, want %q", got, tt.wantSI)
			}
			if !strings.Contains(log.String(), "call refused") || !strings.Contains(log.String(), tt.wantLog) {
				t.Errorf("log does not say why: %s", log.String())
			}
		})
	}
	t.Run("an 8-bit post-url message still echoes the session from the query", func(t *testing.T) {
		hop := &carriertest.Hopper{}
		q := "from=%2B593991234567&to=%2A384%23&coding=1&smsc=movistar&meta=%3Fsmpp%3Fussd_service_op%3D%2512%26its_session_info%3D%2511%2504"
		rec := call(kannel.NewUSSD(kannel.USSDOptions{}), hop, http.MethodPost, ussdPath+"?"+q, "application/octet-stream", strings.NewReader("\x01"))
		if rec.Code != http.StatusOK || len(hop.Calls()) != 0 {
			t.Fatalf("status %d, %d calls; want 200 and none", rec.Code, len(hop.Calls()))
		}
		meta := replyMeta(t, rec.Header().Get("X-Kannel-Meta-Data"))
		if meta.Get("ussd_service_op") != "\x11" || meta.Get("its_session_info") != "\x11\x05" {
			t.Errorf("meta %v", meta)
		}
	})
	t.Run("a refused release sends nothing", func(t *testing.T) {
		hop := &carriertest.Hopper{}
		rec := get(kannel.NewUSSD(kannel.USSDOptions{}), hop, ussdPath, string(carriertest.Testdata(t, "ussd_release_bad_phone.query")))
		if rec.Code != http.StatusAccepted || rec.Body.Len() != 0 || len(hop.Calls()) != 0 {
			t.Errorf("status %d body %q calls %d; want 202, empty, none", rec.Code, rec.Body.String(), len(hop.Calls()))
		}
	})
}

// replyMeta decodes X-Kannel-Meta-Data into the smpp group's values.
func replyMeta(t *testing.T, h string) url.Values {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "?smpp?")
	if !ok {
		t.Fatalf("X-Kannel-Meta-Data %q lacks ?smpp?", h)
	}
	v, err := url.ParseQuery(rest)
	if err != nil {
		t.Fatalf("X-Kannel-Meta-Data %q: %v", h, err)
	}
	return v
}

func TestUSSDReplies(t *testing.T) {
	menu := "Elija:\n1. Cédula\n2. Turnos"
	// 30 lines: 209 characters, too many for one screen.
	long := strings.TrimSuffix(strings.Repeat("Linea.\n", 30), "\n")
	tests := []struct {
		name       string
		file       string
		opts       kannel.USSDOptions
		hop        *carriertest.Hopper
		wantBody   string
		wantCoding string
		wantOp     string // raw octet
		wantSI     string // raw octets; "" when absent
	}{
		{name: "continue asks for an answer", file: "ussd_answer.query", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: menu}},
			wantBody: menu, wantCoding: "0", wantOp: "\x02", wantSI: "\x11\x04"},
		{name: "end sends a pssr response with the end flag", file: "ussd_begin.query",
			hop:      &carriertest.Hopper{Reply: carrier.Reply{Text: "Gracias.", End: true}},
			wantBody: "Gracias.", wantCoding: "0", wantOp: "\x11", wantSI: "\x11\x03"},
		{name: "no session info: only the operation", file: "ussd_no_meta.query", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: "Hola"}},
			wantBody: "Hola", wantCoding: "0", wantOp: "\x02"},
		{name: "accented screen that fits ucs-2 keeps its accents", file: "ussd_answer.query",
			hop:      &carriertest.Hopper{Reply: carrier.Reply{Text: "Opción válida, señor"}},
			wantBody: "Opción válida, señor", wantCoding: "2", wantOp: "\x02", wantSI: "\x11\x04"},
		{name: "accented screen too long for ucs-2 is transliterated whole", file: "ussd_answer.query",
			hop:      &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("Trámite número uno. ", 6)}},
			wantBody: strings.Repeat("Tramite numero uno. ", 6), wantCoding: "0", wantOp: "\x02", wantSI: "\x11\x04"},
		{name: "non-spanish screen too long for ucs-2 is cut to 80", file: "ussd_answer.query",
			hop:      &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ç", 100)}},
			wantBody: strings.Repeat("ç", 80), wantCoding: "2", wantOp: "\x02", wantSI: "\x11\x04"},
		{name: "over-long screen loses whole trailing lines", file: "ussd_answer.query",
			hop: &carriertest.Hopper{Reply: carrier.Reply{Text: long}},
			// n lines of 6 characters and n-1 breaks: 26 make 181, 27 make 188.
			wantBody: strings.TrimSuffix(strings.Repeat("Linea.\n", 26), "\n"), wantCoding: "0", wantOp: "\x02", wantSI: "\x11\x04"},
		{name: "extension characters count two septets", file: "ussd_answer.query", opts: kannel.USSDOptions{Limit: 50},
			hop:      &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("€", 40)}},
			wantBody: strings.Repeat("€", 25), wantCoding: "0", wantOp: "\x02", wantSI: "\x11\x04"},
		{name: "decimal meta-data answered in decimal", file: "ussd_decimal_meta.query", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: "Fin", End: true}},
			wantBody: "Fin", wantCoding: "0", wantOp: "17", wantSI: "4357"},
		{name: "hop error ends with the fallback", file: "ussd_answer.query", hop: &carriertest.Hopper{Err: errors.New("store down")},
			wantBody: "Servicio no disponible. Intente más tarde.", wantCoding: "2", wantOp: "\x11", wantSI: "\x11\x05"},
		{name: "empty screen ends with the fallback", file: "ussd_answer.query", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: " "}},
			wantBody: "Servicio no disponible. Intente más tarde.", wantCoding: "2", wantOp: "\x11", wantSI: "\x11\x05"},
		{name: "hop panic ends with the fallback", file: "ussd_answer.query", hop: &carriertest.Hopper{Panic: "boom"},
			wantBody: "Servicio no disponible. Intente más tarde.", wantCoding: "2", wantOp: "\x11", wantSI: "\x11\x05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(kannel.NewUSSD(tt.opts), tt.hop, ussdPath, string(carriertest.Testdata(t, tt.file)))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200; body %q", rec.Code, rec.Body.String())
			}
			if rec.Body.String() != tt.wantBody {
				t.Errorf("body:\n got %q\nwant %q", rec.Body.String(), tt.wantBody)
			}
			if got := rec.Header().Get("X-Kannel-Coding"); got != tt.wantCoding {
				t.Errorf("X-Kannel-Coding %q, want %q", got, tt.wantCoding)
			}
			meta := replyMeta(t, rec.Header().Get("X-Kannel-Meta-Data"))
			if got := meta.Get("ussd_service_op"); got != tt.wantOp {
				t.Errorf("ussd_service_op %q, want %q", got, tt.wantOp)
			}
			if got := meta.Get("its_session_info"); got != tt.wantSI {
				t.Errorf("its_session_info %q, want %q", got, tt.wantSI)
			}
			limit := cmp(tt.opts.Limit, 182)
			if n := utf8.RuneCountInString(rec.Body.String()); n > limit {
				t.Errorf("reply has %d characters, limit %d", n, limit)
			}
		})
	}
}

func TestUSSDOptions(t *testing.T) {
	h := kannel.NewUSSD(kannel.USSDOptions{Path: "/k/ussd", Limit: 10, DefaultRegion: "KE"})
	if h.Name() != "kannel-ussd" {
		t.Errorf("Name() = %q", h.Name())
	}
	hop := &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("x", 100)}}
	rec := get(h, hop, "/k/ussd", "from=0711082123&to=%2A384%23&text=1")
	if rec.Code != 200 || len(hop.Calls()) != 1 {
		t.Fatalf("status %d, calls %d", rec.Code, len(hop.Calls()))
	}
	if in := hop.Calls()[0]; in.Phone != "+254711082123" || in.Limit != 40 {
		t.Errorf("Phone %q Limit %d; want +254711082123 (region KE) and 40 (raised)", in.Phone, in.Limit)
	}
	if rec.Body.String() != strings.Repeat("x", 40) {
		t.Errorf("reply %q not cut to 40", rec.Body.String())
	}
}

// Parse is usable without HTTP, e.g. to replay captured calls.
func TestParseUSSDDirect(t *testing.T) {
	v, err := url.ParseQuery(string(carriertest.Testdata(t, "ussd_begin.query")))
	if err != nil {
		t.Fatal(err)
	}
	p, err := kannel.NewUSSD(kannel.USSDOptions{}).Parse(kannel.Request{Fields: v})
	if err != nil {
		t.Fatal(err)
	}
	if p.Op != kannel.PSSRIndication || p.Session == nil || *p.Session != (kannel.SessionInfo{Number: 0x11, Seq: 1}) {
		t.Errorf("Op %#x Session %+v", p.Op, p.Session)
	}
	var fe *kannel.FieldError
	_, err = kannel.NewUSSD(kannel.USSDOptions{}).Parse(kannel.Request{Fields: url.Values{"to": {"*1#"}}})
	if !errors.As(err, &fe) || fe.Field != "from" {
		t.Errorf("missing from: %v", err)
	}
}
