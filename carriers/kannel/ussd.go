package kannel

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/wire"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/sms/alphabet"
)

// ServiceOp is an SMPP ussd_service_op value (TLV 0x0501).
type ServiceOp int

// The operations SMPP 3.4/5.0 define, and the release that Mica-style
// gateways send when the citizen hangs up or the network aborts.
const (
	PSSDIndication ServiceOp = 0x00
	PSSRIndication ServiceOp = 0x01 // the citizen dialled: a session starts
	USSRRequest    ServiceOp = 0x02 // our screen, expecting an answer
	USSNRequest    ServiceOp = 0x03
	PSSDResponse   ServiceOp = 0x10
	PSSRResponse   ServiceOp = 0x11 // our last screen: the session ends
	USSRConfirm    ServiceOp = 0x12 // the citizen's answer
	USSNConfirm    ServiceOp = 0x13
	USSRelease     ServiceOp = 0x81 // vendor-specific: released or aborted
)

// NoOp stands for a call without ussd_service_op: Kannel without the
// smpp-tlv group, or an SMSC that is not SMPP.
const NoOp ServiceOp = -1

// SessionInfo is SMPP's its_session_info (TLV 0x1383): octet 1 the session
// number, octet 2 the sequence number (bits 7–1) and end-of-session flag
// (bit 0).
type SessionInfo struct {
	Number uint8
	Seq    uint8 // 0–127
	End    bool
}

func (s SessionInfo) octets() [2]byte {
	b := [2]byte{s.Number, s.Seq << 1}
	if s.End {
		b[1] |= 1
	}
	return b
}

// Hop is one parsed USSD call: the Inbound for the gateway plus the TLVs
// the reply must answer with.
type Hop struct {
	Inbound carrier.Inbound
	Op      ServiceOp
	Session *SessionInfo // nil when Kannel passed none
	// decimal says the TLVs came as decimal numbers (an integer-typed
	// smpp-tlv in a Kannel that formats them so), to be answered alike.
	decimal bool
}

// USSDOptions configures the USSD adapter. Zero values take the defaults.
type USSDOptions struct {
	// Path is the route smsbox's get-url points at (default "/ussd/kannel").
	Path string
	// Limit is the GSM-7 characters (septets) one screen may carry
	// (default 182: 160 octets). The gateway is asked for screens of this
	// many characters; values below 40 are raised to 40. A screen that
	// needs UCS-2 gets half the octets: 80 characters at the default.
	Limit int
	// DefaultRegion is the ISO 3166 region used to read numbers without
	// a leading "+" (default "EC").
	DefaultRegion string
	// Log receives the adapter's lines; nil: slog.Default(). The gateway
	// passes its own, which pseudonymises citizens' identifiers.
	Log *slog.Logger
}

// USSD is the Kannel USSD adapter for operators' SMPP gateways: one smsbox
// call per USSD message, the session state carried in SMPP TLVs.
type USSD struct {
	opts USSDOptions
	log  *slog.Logger
}

var _ carrier.Carrier = (*USSD)(nil)

// NewUSSD returns a USSD adapter with opts, defaults filled in.
func NewUSSD(opts USSDOptions) *USSD {
	if opts.Limit <= 0 {
		opts.Limit = carrier.DefaultUSSDLimit
	}
	opts.Limit = max(opts.Limit, wire.MinScreen)
	if opts.Path == "" {
		opts.Path = "/ussd/kannel"
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "EC"
	}
	return &USSD{opts: opts, log: wire.Logger(opts.Log).With("carrier", Carrier, "channel", "ussd")}
}

// Name returns "kannel-ussd": unique among carriers, while the Inbound it
// builds names the carrier "kannel".
func (h *USSD) Name() string { return "kannel-ussd" }

// Mount registers GET and POST Path.
func (h *USSD) Mount(r carrier.Router, hop carrier.Hopper) {
	serve := func(c echo.Context) error { return h.serve(c, hop) }
	r.Add(http.MethodGet, h.opts.Path, serve)
	r.Add(http.MethodPost, h.opts.Path, serve)
}

func (h *USSD) serve(c echo.Context, hop carrier.Hopper) error {
	req, err := readRequest(c)
	if err != nil {
		return h.refuse(c, nil, err)
	}
	p, err := h.Parse(req)
	if err != nil {
		return h.refuse(c, req.Fields, err)
	}
	rep := wire.Hop(c.Request().Context(), hop, p.Inbound, h.log)
	if p.Inbound.Event == carrier.EventEnd {
		// The session is gone on the handset: nothing to send.
		return writeNothing(c)
	}
	if strings.TrimSpace(rep.Text) == "" {
		// smsbox would drop an empty screen and leave the handset
		// waiting for one until the operator times the session out.
		h.log.Error("empty ussd screen; ending the session")
		rep = carrier.Reply{Text: wire.Fallback, End: true}
	}
	text, coding := h.screen(rep.Text)
	return writeText(c, text, coding, p.replyMeta(rep.End))
}

// refuse answers a call the adapter cannot accept. smsbox would turn a
// 4xx into its reply-requestfailed text in a plain message, without the
// USSD TLVs, leaving the operator's dialogue open until it times out; so
// the citizen gets a final USSD screen instead, echoing whatever session
// information the call carried in a readable form. The hop is not run: a
// call we cannot read must not touch a session. The log says why.
// fields are the call's fields when they could be read.
func (h *USSD) refuse(c echo.Context, fields url.Values, err error) error {
	// The reason names a field, never a value: safe to log.
	h.log.Warn("call refused; ending the dialogue", "reason", err.Error())
	p := Hop{Op: NoOp}
	if fields == nil && len(c.Request().URL.RawQuery) <= maxQuery {
		// The body was refused (an 8-bit post-url message, say), but
		// the TLVs travel in the query; ParseQuery keeps what it read.
		fields, _ = url.ParseQuery(c.Request().URL.RawQuery)
	}
	_ = p.readMeta(fields) // what it could read is kept
	if p.ends() {
		return writeNothing(c)
	}
	text, coding := h.screen(wire.Fallback)
	return writeText(c, text, coding, p.replyMeta(true))
}

// ends says the call reports a dialogue the handset has already left.
func (p *Hop) ends() bool {
	switch p.Op {
	case PSSDIndication, USSNConfirm, USSRelease:
		return true
	}
	return p.Session != nil && p.Session.End
}

// ucs2Limit is the characters a UCS-2 screen can carry: the octets a
// GSM-7 screen of Limit septets takes, two per character.
func (h *USSD) ucs2Limit() int { return (h.opts.Limit*7 + 7) / 8 / 2 }

// screen picks the coding of a reply and fits it. GSM-7 is kept when the
// text allows it (Kannel would turn other characters into "?"). A text
// that needs UCS-2 has half the room, so when it does not fit, á í ó ú
// are transliterated to get the whole screen through in GSM-7; only text
// that needs UCS-2 even then (rare in Spanish) is cut to the UCS-2 room.
func (h *USSD) screen(text string) (string, int) {
	if codingFor(text) == codingGSM7 {
		return h.cut(text, h.opts.Limit, septets), codingGSM7
	}
	if utf16Units(text) <= h.ucs2Limit() {
		return text, codingUCS2
	}
	if t := alphabet.Transliterate(text); codingFor(t) == codingGSM7 {
		return h.cut(t, h.opts.Limit, septets), codingGSM7
	}
	return h.cut(text, h.ucs2Limit(), utf16Units), codingUCS2
}

func (h *USSD) cut(text string, limit int, size func(string) int) string {
	out := fit(text, limit, size)
	if len(out) != len(text) {
		h.log.Warn("ussd reply longer than the screen, cut", "size", size(text), "limit", limit)
	}
	return out
}

// replyMeta is the X-Kannel-Meta-Data that makes Kannel's SMPP module send
// our reply as the right USSD operation: USSR request (2) to ask for an
// answer, PSSR response (17) to end. its_session_info goes back with the
// session and sequence numbers we were given and the end flag set when
// the session ends. Values are written the way they came (raw octets,
// which is how Kannel passes these built-in TLVs, or decimal).
func (p *Hop) replyMeta(end bool) string {
	op := USSRRequest
	if end {
		op = PSSRResponse
	}
	v := url.Values{}
	if p.decimal {
		v.Set("ussd_service_op", strconv.Itoa(int(op)))
	} else {
		v.Set("ussd_service_op", string([]byte{byte(op)}))
	}
	if p.Session != nil {
		s := *p.Session
		s.End = end
		b := s.octets()
		if p.decimal {
			v.Set("its_session_info", strconv.Itoa(int(b[0])<<8|int(b[1])))
		} else {
			v.Set("its_session_info", string(b[:]))
		}
	}
	return "?smpp?" + v.Encode()
}

// Parse validates one smsbox call and builds the Hop. It is pure, so it
// can be fuzzed and reused by tools that replay captures.
//
// The ussd_service_op in the meta-data says what the call is: PSSR
// indication (1) begins a session, its text, when a dial string, being
// what the citizen dialled (the ServiceCode, shortcut answers included;
// else the receiver is),
// USSR confirm (0x12) continues it with the citizen's answer, and PSSD
// indication (0), USSN confirm (0x13) or a release (0x81), like an
// its_session_info with the end flag, end it. A call without the TLV is
// taken as a continuing hop. SMPP USSD carries no session id in the text:
// SessionID is the caller's number plus its_session_info's session number
// when there is one ("+593991234567/s17"), else the number alone. The
// number scopes the 0–255 session numbers, which operators reuse; a new
// session is recognised by its PSSR indication (EventBegin), not by a new
// id.
func (h *USSD) Parse(req Request) (Hop, error) {
	from, err := field(req.Fields, "from")
	if err != nil {
		return Hop{}, err
	}
	phone, err := wire.E164("from", from, h.opts.DefaultRegion)
	if err != nil {
		return Hop{}, err
	}
	to, err := address(req.Fields, "to", true)
	if err != nil {
		return Hop{}, err
	}
	if _, err := address(req.Fields, "smsc", false); err != nil {
		return Hop{}, err
	}
	text, err := message(req)
	if err != nil {
		return Hop{}, err
	}
	if utf8.RuneCountInString(text) > carrier.DefaultUSSDLimit {
		return Hop{}, &FieldError{Field: "text", Reason: "longer than 182 characters"}
	}
	if text, err = wire.CleanInput("text", text, 4*carrier.DefaultUSSDLimit); err != nil {
		return Hop{}, err
	}
	p := Hop{Op: NoOp}
	if err := p.readMeta(req.Fields); err != nil {
		return Hop{}, err
	}

	in := carrier.Inbound{
		Channel:     "ussd",
		Carrier:     Carrier,
		SessionID:   phone,
		Phone:       phone,
		ServiceCode: to,
		Input:       text,
		Limit:       h.opts.Limit,
		Event:       carrier.EventContinue,
	}
	if p.Session != nil {
		in.SessionID = phone + "/s" + strconv.Itoa(int(p.Session.Number))
	}
	switch p.Op {
	case PSSRIndication:
		// Session numbers are reused, so a begin is always a new dial.
		in.Event, in.BeginIsNew = carrier.EventBegin, true
		// The indication's text is what the citizen dialled, shortcut
		// answers included ("*384*1*1#"), while the receiver is often
		// the bare service code. Anything else is not an answer to a
		// screen nobody has seen yet.
		if wire.IsDialString(text) {
			in.ServiceCode = text
		}
		in.Input = ""
	case USSRConfirm, NoOp:
	case PSSDIndication:
		in.Event, in.EndStatus = carrier.EventEnd, "PSSD"
	case USSNConfirm:
		in.Event, in.EndStatus = carrier.EventEnd, "USSN confirm"
	case USSRelease:
		in.Event, in.EndStatus = carrier.EventEnd, "Release"
	default:
		return Hop{}, &FieldError{Field: "meta", Reason: fmt.Sprintf("ussd_service_op %#02x is not an operation a handset sends", int(p.Op))}
	}
	if p.Session != nil && p.Session.End && in.Event != carrier.EventEnd {
		in.Event, in.EndStatus = carrier.EventEnd, "Release"
	}
	if in.Event == carrier.EventEnd {
		in.Input = ""
	}
	p.Inbound = in
	return p, nil
}

// readMeta reads ussd_service_op and its_session_info from the meta
// field, Kannel's %D: "?smpp?ussd_service_op=%01&its_session_info=%11%04",
// itself URL-encoded once more in the query.
func (p *Hop) readMeta(v url.Values) error {
	raw, err := field(v, "meta")
	if err != nil || raw == "" {
		return err
	}
	if len(raw) > maxMeta {
		return &FieldError{Field: "meta", Reason: "longer than 1 KiB"}
	}
	groups, err := parseMeta(raw)
	if err != nil {
		return err
	}
	smpp := groups["smpp"]
	op, hasOp := smpp["ussd_service_op"]
	si, hasSI := smpp["its_session_info"]
	// Kannel passes these built-in TLVs as raw octets; a Kannel that
	// formats them as decimal integers is understood too, and answered
	// alike. The operation tells the forms apart: every operation a
	// handset sends is a control octet, never a digit.
	switch {
	case hasOp:
		p.decimal = allDigits(op)
	case hasSI:
		p.decimal = len(si) != 2 && allDigits(si)
	}
	// Each TLV is kept when it reads, even if the other does not: a
	// refused call still answers with what could be read.
	var opErr, siErr error
	if hasOp {
		if n, err := tlvNumber(op, 1, p.decimal); err != nil {
			opErr = &FieldError{Field: "meta", Reason: "ussd_service_op " + err.Error()}
		} else {
			p.Op = ServiceOp(n)
		}
	}
	if hasSI {
		if n, err := tlvNumber(si, 2, p.decimal); err != nil {
			siErr = &FieldError{Field: "meta", Reason: "its_session_info " + err.Error()}
		} else {
			p.Session = &SessionInfo{Number: uint8(n >> 8), Seq: uint8(n&0xFF) >> 1, End: n&1 == 1}
		}
	}
	if opErr != nil {
		return opErr
	}
	return siErr
}

// tlvNumber reads a TLV value of size octets, raw (big-endian, as SMPP
// sends it) or as a decimal number.
func tlvNumber(s string, size int, decimal bool) (int, error) {
	if !decimal {
		if len(s) != size {
			return 0, fmt.Errorf("is not %d octet(s)", size)
		}
		n := 0
		for i := 0; i < size; i++ {
			n = n<<8 | int(s[i])
		}
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || !allDigits(s) || len(s) > 5 || n >= 1<<(8*size) {
		return 0, fmt.Errorf("is not a number below %d", 1<<(8*size))
	}
	return n, nil
}

func allDigits(s string) bool { return s != "" && !strings.ContainsFunc(s, notDigit) }

// parseMeta splits Kannel's meta-data, "?group?k=v&k=v?group2?…" with keys
// and values URL-encoded, into groups. It is strict: a key twice in a
// group, or a group twice, is refused like a repeated field.
func parseMeta(s string) (map[string]map[string]string, error) {
	if !strings.HasPrefix(s, "?") {
		return nil, &FieldError{Field: "meta", Reason: "does not start with ?group?"}
	}
	groups := map[string]map[string]string{}
	rest := s[1:]
	for rest != "" {
		name, after, ok := strings.Cut(rest, "?")
		if !ok || name == "" {
			return nil, &FieldError{Field: "meta", Reason: "malformed group"}
		}
		params, next, _ := strings.Cut(after, "?")
		rest = next
		if _, dup := groups[name]; dup {
			return nil, &FieldError{Field: "meta", Reason: "group sent more than once"}
		}
		vals, err := url.ParseQuery(params)
		if err != nil {
			return nil, &FieldError{Field: "meta", Reason: "malformed encoding"}
		}
		g := make(map[string]string, len(vals))
		for k, vs := range vals {
			if len(vs) != 1 {
				return nil, &FieldError{Field: "meta", Reason: "parameter sent more than once"}
			}
			g[k] = vs[0]
		}
		groups[name] = g
	}
	return groups, nil
}
