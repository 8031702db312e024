package kanneltest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// The SMPP 3.4 commands the test SMSC speaks.
const (
	cmdGenericNack      = 0x80000000
	cmdBindReceiver     = 0x00000001
	cmdBindTransmitter  = 0x00000002
	cmdSubmitSM         = 0x00000004
	cmdDeliverSM        = 0x00000005
	cmdUnbind           = 0x00000006
	cmdBindTransceiver  = 0x00000009
	cmdEnquireLink      = 0x00000015
	respBit             = 0x80000000
	statusOK            = 0x00000000
	statusInvalidCmd    = 0x00000003
	statusBindFailed    = 0x0000000D
	statusInvalidPasswd = 0x0000000E
)

// The TLVs of a USSD dialogue (SMPP 3.4 §5.3.2.44, and the Mica-style
// its_session_info used for USSD) and the long-text field.
const (
	TagUSSDServiceOp  = 0x0501
	TagITSSessionInfo = 0x1383
	tagMessagePayload = 0x0424
)

// maxPDU bounds what the test SMSC reads: a real PDU is a few hundred bytes.
const maxPDU = 64 << 10

// USSD is a message that crossed the USSD link, as the SMSC saw it: for a
// submit_sm Kannel sent towards the handset, the text decoded from its data
// coding and the TLVs as they came.
type USSD struct {
	From, To    string
	ServiceType string
	DataCoding  byte
	Text        string
	TLVs        map[uint16][]byte
}

// Op returns the ussd_service_op TLV, or -1 when it is absent.
func (m USSD) Op() int {
	if v, ok := m.TLVs[TagUSSDServiceOp]; ok && len(v) == 1 {
		return int(v[0])
	}
	return -1
}

// smsc is an SMPP 3.4 message centre just big enough for Kannel's smpp
// module: it accepts one bind, answers enquire_link, delivers what a test
// dials as deliver_sm with the USSD TLVs, and hands every submit_sm to the
// test. Operators' USSD gateways are SMPP; Kannel's fakesmsc cannot carry
// TLVs, which are the whole USSD dialogue.
type smsc struct {
	ln         net.Listener
	user, pass string

	mu    sync.Mutex // guards conn, seq and writes
	conn  net.Conn
	seq   uint32
	bound chan struct{}
	once  sync.Once

	submits chan USSD
	errs    chan error
}

func newSMSC(user, pass string) (*smsc, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &smsc{ln: ln, user: user, pass: pass, bound: make(chan struct{}),
		submits: make(chan USSD, 256), errs: make(chan error, 16)}
	go s.accept()
	return s, nil
}

func (s *smsc) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smsc) close() {
	s.ln.Close()
	s.mu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.mu.Unlock()
}

func (s *smsc) fail(err error) {
	select {
	case s.errs <- err:
	default:
	}
}

// accept serves Kannel's connections one at a time (it reconnects after
// a failure with a new one).
func (s *smsc) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.conn != nil {
			s.conn.Close()
		}
		s.conn = c
		s.mu.Unlock()
		s.serve(c)
	}
}

func (s *smsc) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		id, status, seq, body, err := readPDU(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.fail(fmt.Errorf("smsc: reading a PDU: %w", err))
			}
			return
		}
		_ = status
		switch id {
		case cmdBindTransceiver, cmdBindTransmitter, cmdBindReceiver:
			b := pduReader{b: body}
			user, pass := b.cstring(), b.cstring()
			st := uint32(statusOK)
			switch {
			case b.err != nil:
				st = statusBindFailed
			case user != s.user || pass != s.pass:
				st = statusInvalidPasswd
			}
			s.write(id|respBit, st, seq, cstring("kanneltest"))
			if st == statusOK {
				s.once.Do(func() { close(s.bound) })
			}
		case cmdEnquireLink:
			s.write(cmdEnquireLink|respBit, statusOK, seq, nil)
		case cmdUnbind:
			s.write(cmdUnbind|respBit, statusOK, seq, nil)
			return
		case cmdSubmitSM:
			m, err := parseSubmit(body)
			if err != nil {
				s.fail(fmt.Errorf("smsc: submit_sm: %w", err))
				s.write(cmdSubmitSM|respBit, statusInvalidCmd, seq, cstring(""))
				continue
			}
			s.write(cmdSubmitSM|respBit, statusOK, seq, cstring(fmt.Sprintf("m%d", seq)))
			s.submits <- m
		case cmdDeliverSM | respBit, cmdGenericNack:
			// Kannel took (or refused) what we delivered; a refusal
			// shows as the reply that never comes.
		default:
			if id&respBit == 0 {
				s.write(cmdGenericNack, statusInvalidCmd, seq, nil)
			}
		}
	}
}

// deliver sends a deliver_sm from the handset side with the USSD TLVs.
// session is its_session_info's two octets, or nil to leave it out.
func (s *smsc) deliver(from, to, text string, op byte, session []byte) error {
	select {
	case <-s.bound:
	case <-time.After(readyTimeout):
		return errors.New("smsc: Kannel has not bound")
	}
	var b []byte
	b = append(b, cstring("USSD")...)
	b = append(b, 1, 1) // international, E.164
	b = append(b, cstring(strings.TrimPrefix(from, "+"))...)
	b = append(b, 0, 0) // unknown: a service code
	b = append(b, cstring(to)...)
	b = append(b, 0, 0, 0)    // esm_class, protocol_id, priority_flag
	b = append(b, 0, 0)       // schedule_delivery_time, validity_period
	b = append(b, 0, 0, 0, 0) // registered_delivery, replace_if_present, data_coding (SMSC default), sm_default_msg_id
	sm := []byte(text)
	for _, c := range sm {
		// What a handset sends (digits, * #, plain letters) is the same
		// octet in ASCII and GSM 03.38; the rest would need packing rules.
		if c >= 0x80 || gsm[c] != rune(c) {
			return fmt.Errorf("smsc: %q is not plain GSM 03.38 text", text)
		}
	}
	b = append(b, byte(len(sm))) // sm_length: at most 182 from a handset
	b = append(b, sm...)
	b = appendTLV(b, TagUSSDServiceOp, []byte{op})
	if session != nil {
		b = appendTLV(b, TagITSSessionInfo, session)
	}
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	return s.write(cmdDeliverSM, statusOK, seq, b)
}

func (s *smsc) write(id, status, seq uint32, body []byte) error {
	pdu := make([]byte, 16, 16+len(body))
	binary.BigEndian.PutUint32(pdu[0:], uint32(16+len(body)))
	binary.BigEndian.PutUint32(pdu[4:], id)
	binary.BigEndian.PutUint32(pdu[8:], status)
	binary.BigEndian.PutUint32(pdu[12:], seq)
	pdu = append(pdu, body...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return errors.New("smsc: Kannel is not connected")
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(readyTimeout))
	_, err := s.conn.Write(pdu)
	return err
}

func readPDU(r io.Reader) (id, status, seq uint32, body []byte, err error) {
	var h [16]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return
	}
	n := binary.BigEndian.Uint32(h[0:])
	if n < 16 || n > maxPDU {
		return 0, 0, 0, nil, fmt.Errorf("command_length %d", n)
	}
	id, status, seq = binary.BigEndian.Uint32(h[4:]), binary.BigEndian.Uint32(h[8:]), binary.BigEndian.Uint32(h[12:])
	body = make([]byte, n-16)
	_, err = io.ReadFull(r, body)
	return
}

func cstring(s string) []byte { return append([]byte(s), 0) }

func appendTLV(b []byte, tag uint16, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, tag)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// pduReader reads a PDU body's fields; the first error sticks.
type pduReader struct {
	b   []byte
	err error
}

func (p *pduReader) cstring() string {
	if p.err != nil {
		return ""
	}
	i := 0
	for i < len(p.b) && p.b[i] != 0 {
		i++
	}
	if i == len(p.b) {
		p.err = errors.New("unterminated C-octet string")
		return ""
	}
	s := string(p.b[:i])
	p.b = p.b[i+1:]
	return s
}

func (p *pduReader) octets(n int) []byte {
	if p.err != nil {
		return nil
	}
	if n > len(p.b) {
		p.err = errors.New("short PDU")
		return nil
	}
	v := p.b[:n]
	p.b = p.b[n:]
	return v
}

func (p *pduReader) octet() byte {
	if v := p.octets(1); v != nil {
		return v[0]
	}
	return 0
}

// parseSubmit reads a submit_sm body (SMPP 3.4 §4.4.1) and its TLVs.
func parseSubmit(body []byte) (USSD, error) {
	p := pduReader{b: body}
	var m USSD
	m.ServiceType = p.cstring()
	p.octets(2) // source_addr_ton, npi
	m.From = p.cstring()
	p.octets(2)
	m.To = p.cstring()
	esm := p.octet()
	p.octets(2) // protocol_id, priority_flag
	p.cstring() // schedule_delivery_time
	p.cstring() // validity_period
	p.octets(2) // registered_delivery, replace_if_present
	m.DataCoding = p.octet()
	p.octet() // sm_default_msg_id
	sm := p.octets(int(p.octet()))
	m.TLVs = map[uint16][]byte{}
	for p.err == nil && len(p.b) > 0 {
		h := p.octets(4)
		if h == nil {
			break
		}
		tag, n := binary.BigEndian.Uint16(h), int(binary.BigEndian.Uint16(h[2:]))
		if _, dup := m.TLVs[tag]; dup {
			return m, fmt.Errorf("TLV %#04x twice", tag)
		}
		m.TLVs[tag] = append([]byte(nil), p.octets(n)...)
	}
	if p.err != nil {
		return m, p.err
	}
	if v, ok := m.TLVs[tagMessagePayload]; ok && len(sm) == 0 {
		sm = v
	}
	if esm&0x40 != 0 {
		return m, errors.New("a USSD screen came with a user data header: it was split")
	}
	switch m.DataCoding {
	case 0x00, 0x01:
		t, err := gsmText(sm)
		if err != nil {
			return m, err
		}
		m.Text = t
	case 0x08:
		if len(sm)%2 != 0 {
			return m, errors.New("odd UCS-2 length")
		}
		m.Text = fromUTF16BE(sm)
	default:
		return m, fmt.Errorf("data_coding %#02x", m.DataCoding)
	}
	return m, nil
}

// gsm is the GSM 03.38 default alphabet, one septet per octet as SMPP
// carries it (unpacked); gsmExt the characters after the escape 0x1B.
var (
	gsm = []rune("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
	gsmExt = map[byte]rune{0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
		0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€'}
)

func gsmText(b []byte) (string, error) {
	var out []rune
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 0x80 {
			return "", fmt.Errorf("octet %#02x is not a GSM 03.38 septet", c)
		}
		if c == 0x1B && i+1 < len(b) {
			r, ok := gsmExt[b[i+1]]
			if !ok {
				return "", fmt.Errorf("escape %#02x is not in the GSM 03.38 extension", b[i+1])
			}
			out = append(out, r)
			i++
			continue
		}
		out = append(out, gsm[c])
	}
	return string(out), nil
}
