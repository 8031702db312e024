package loadgen

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Carrier speaks one provider's USSD callback protocol towards the gateway,
// as the provider's platform would. Adding a provider to the bench is one
// implementation and one line in Carriers.
type Carrier interface {
	// Name is the provider's name, as --carrier takes it.
	Name() string
	// Request builds the callback for one hop, aimed at the gateway at base
	// (scheme and host, e.g. http://127.0.0.1:8080).
	Request(ctx context.Context, base string, h Hop) (*http.Request, error)
	// Reply reads the body of a 200 answer; an error means it is not framed
	// as the provider requires.
	Reply(body []byte) (Screen, error)
	// Canned is a fixed continuing reply in the provider's framing: what the
	// baseline server answers to every hop.
	Canned() (contentType string, body []byte)
}

// Hop is one callback of a session.
type Hop struct {
	Session     string   // the carrier's session id, new for every conversation
	Phone       string   // E.164
	ServiceCode string   // what the citizen dialled, e.g. *384#
	Inputs      []string // every answer so far, the latest last; none on the dial
}

// Screen is what the handset shows: the text and whether the session ends.
type Screen struct {
	Text string
	End  bool
}

// ErrFraming is a reply the carrier would not accept.
var ErrFraming = errors.New("reply not framed as the carrier requires")

// Carriers lists the providers the bench can speak.
func Carriers() []Carrier {
	return []Carrier{AfricasTalking{}}
}

// AfricasTalking is Africa's Talking's USSD callback: a form POST per hop
// with the cumulative text history joined by "*", answered "CON …" or
// "END …" in plain text.
type AfricasTalking struct{}

var _ Carrier = AfricasTalking{}

// Name returns "africastalking".
func (AfricasTalking) Name() string { return "africastalking" }

// Request posts the hop's form to /ussd/africastalking.
func (AfricasTalking) Request(ctx context.Context, base string, h Hop) (*http.Request, error) {
	form := url.Values{
		"sessionId":   {h.Session},
		"serviceCode": {h.ServiceCode},
		"phoneNumber": {h.Phone},
		"networkCode": {"74001"},
		"text":        {strings.Join(h.Inputs, "*")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/ussd/africastalking", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// Reply splits the CON/END prefix from the screen.
func (AfricasTalking) Reply(body []byte) (Screen, error) {
	s := string(body)
	if text, ok := strings.CutPrefix(s, "CON "); ok {
		return Screen{Text: text}, nil
	}
	if text, ok := strings.CutPrefix(s, "END "); ok {
		return Screen{Text: text, End: true}, nil
	}
	return Screen{}, ErrFraming
}

// Canned answers the services menu, about the size of a real screen.
func (AfricasTalking) Canned() (string, []byte) {
	return "text/plain; charset=utf-8", []byte("CON Ventanilla ciudadana\n1. Turnos\n2. Estado de trámite\n3. Quejas y sugerencias\n4. Idioma / Language")
}
