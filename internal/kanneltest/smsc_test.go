package kanneltest

import (
	"strings"
	"testing"
)

// submit builds a submit_sm body the way Kannel's SMPP module writes one.
func submit(esm, coding byte, sm []byte, tlvs ...[]byte) []byte {
	b := cstring("USSD")
	b = append(b, 0, 0)
	b = append(b, cstring("*384#")...)
	b = append(b, 1, 1)
	b = append(b, cstring("593991234567")...)
	b = append(b, esm, 0, 0)
	b = append(b, 0, 0)
	b = append(b, 0, 0, coding, 0, byte(len(sm)))
	b = append(b, sm...)
	for _, t := range tlvs {
		b = append(b, t...)
	}
	return b
}

func TestParseSubmit(t *testing.T) {
	op := appendTLV(nil, TagUSSDServiceOp, []byte{0x11})
	si := appendTLV(nil, TagITSSessionInfo, []byte{0x11, 0x05})
	m, err := parseSubmit(submit(0, 0, []byte("Pr\x1be\x1b\x14cio: 5\x0a\x7fAdi\x7fs"), op, si))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "Pr€^cio: 5\nàAdiàs" || m.Op() != 0x11 || string(m.TLVs[TagITSSessionInfo]) != "\x11\x05" ||
		m.To != "593991234567" || m.From != "*384#" || m.ServiceType != "USSD" {
		t.Errorf("got %+v", m)
	}
	m, err = parseSubmit(submit(0, 8, []byte{0, 'O', 0, 'p', 0, 'c', 0, 'i', 0, 0xF3, 0, 'n'}, op))
	if err != nil || m.Text != "Opción" || m.DataCoding != 8 {
		t.Errorf("UCS-2: %+v, %v", m, err)
	}
	if m.Op() != 0x11 || m.TLVs[TagITSSessionInfo] != nil {
		t.Errorf("TLVs %v", m.TLVs)
	}
	for name, body := range map[string][]byte{
		"split screen (UDH)":  submit(0x40, 0, []byte("x"), op),
		"TLV twice":           submit(0, 0, []byte("x"), op, op),
		"short TLV":           submit(0, 0, []byte("x"), op[:4]),
		"not a GSM septet":    submit(0, 0, []byte{0x80}),
		"unknown data coding": submit(0, 4, []byte("x")),
		"truncated":           submit(0, 0, []byte("x"))[:10],
	} {
		if _, err := parseSubmit(body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestGSMAlphabet(t *testing.T) {
	if len(gsm) != 128 {
		t.Fatalf("%d septets", len(gsm))
	}
	// The printable ASCII that handsets send is the same octet in GSM 03.38,
	// except the few the alphabet puts elsewhere.
	for c := byte(' '); c <= '~'; c++ {
		same := gsm[c] == rune(c)
		if want := !strings.ContainsRune("$@[\\]^_`{|}~", rune(c)); same != want {
			t.Errorf("%q: same octet %v, want %v", c, same, want)
		}
	}
}
