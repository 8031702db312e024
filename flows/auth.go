package flows

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/i18n"
)

// PINs keeps citizens' PINs for level 2 flows; Check returns ErrPINLocked
// after repeated failures.
type PINs interface {
	Has(ctx context.Context, phone string) (bool, error)
	Check(ctx context.Context, phone, pin string) (bool, error)
	Set(ctx context.Context, phone, pin string) error
}

// ErrPINLocked: too many wrong PINs; the PIN is locked for a while.
var ErrPINLocked = errors.New("flows: PIN locked after repeated failures")

// Variables of a pending one-time code; "$" keeps flows from them.
const (
	otpVar      = "$otp"       // hash of the code sent
	otpAtVar    = "$otp_at"    // when it was sent, unix ms
	otpFlowVar  = "$otp_flow"  // the level 2 flow waiting for it
	otpGotoVar  = "$otp_goto"  // the goto step that leads there ("" at the start)
	otpTriesVar = "$otp_tries" // wrong codes so far
	levelVar    = "$level"     // the level the citizen has proved
	pinVar      = "$pin"       // waiting for the citizen's PIN
	newPINVar   = "$pin_new"   // offering to create a PIN
)

const (
	otpTTL   = 5 * time.Minute
	otpTries = 3
)

// gate checks a flow's authentication level before it starts. Level 1
// needs a number the carrier verified, which USSD and SMS always give and
// chat platforms give once the citizen shares it. Level 2 also needs a
// one-time code sent to that number by SMS: gate sends it and asks for it,
// and the flow starts once it is typed (verifyOTP). stop is true when the
// flow must not start now; sc is then what the citizen sees.
func (h *hop) gate(cf *Compiled, gotoStep string) (sc Screen, stop bool, err error) {
	s := h.s
	if cf.Level >= 1 && s.Phone == "" {
		h.gating = cf
		h.say(h.e.messages(cf).Text(s.Locale, i18n.AuthNeedsNumber))
		return h.finish(), true, nil
	}
	if cf.Level < 2 || s.Vars[levelVar] == int64(2) {
		return Screen{}, false, nil
	}
	h.gating = cf
	m := h.e.messages(cf)
	s.Vars[otpFlowVar] = cf.ID + "@" + strconv.Itoa(cf.Version)
	s.Vars[otpGotoVar] = gotoStep
	if p := h.e.PINs; p != nil {
		if has, err := p.Has(h.ctx, s.Phone); err == nil && has {
			s.Vars[pinVar] = true
			return h.prompt(i18n.AuthPINPrompt, ""), true, nil
		}
	}
	if err := h.confirm(); err != nil {
		return Screen{}, true, err
	}
	code := h.e.code()
	if h.e.OTP == nil || h.e.OTP.Notify(h.ctx, s.Phone, s.Locale, m.Format(s.Locale, i18n.AuthCodeSMS, map[string]any{"Code": code})) != nil {
		h.say(m.Text(s.Locale, i18n.AuthUnavailable))
		return h.finish(), true, nil
	}
	s.Vars[otpVar] = otpHash(s.Phone, code)
	s.Vars[otpAtVar] = h.e.now().UnixMilli()
	s.Vars[otpTriesVar] = int64(0)
	return h.otpScreen(""), true, nil
}

func (h *hop) otpScreen(prefix string) Screen { return h.prompt(i18n.AuthCodePrompt, prefix) }

// prompt is a screen asking for a typed answer outside any flow step.
func (h *hop) prompt(id, prefix string) Screen {
	m := h.messages()
	h.say(prefix)
	h.say(m.Text(h.s.Locale, id))
	return Screen{Text: h.pending.String(), Locale: h.s.Locale, Retry: prefix != "",
		Nav: Nav{More: Option{Key: h.e.Nav.More, Label: m.Text(h.s.Locale, i18n.NavMore)},
			Prev: Option{Key: h.e.Nav.Back, Label: m.Text(h.s.Locale, i18n.NavBack)}}}
}

// verifyOTP checks the code the citizen typed and, when it is the one
// sent, starts the level 2 flow that waited for it.
func (h *hop) verifyOTP(text string) (Screen, error) {
	s := h.s
	sent, _ := s.Vars[otpVar].(string)
	at, _ := s.Vars[otpAtVar].(int64)
	flowRef, _ := s.Vars[otpFlowVar].(string)
	gotoStep, _ := s.Vars[otpGotoVar].(string)
	tries, _ := s.Vars[otpTriesVar].(int64)
	h.gating = h.guardedFlow(flowRef)
	m := h.messages()
	if h.e.now().Sub(time.UnixMilli(at)) > otpTTL {
		h.clearOTP()
		h.say(m.Text(s.Locale, i18n.AuthCodeExpired))
		return h.finish(), nil
	}
	if subtle.ConstantTimeCompare([]byte(otpHash(s.Phone, text)), []byte(sent)) != 1 {
		tries++
		if tries >= otpTries {
			h.clearOTP()
			h.say(m.Text(s.Locale, i18n.TooManyAttempts))
			return h.finish(), nil
		}
		s.Vars[otpTriesVar] = tries
		return h.otpScreen(m.Text(s.Locale, i18n.AuthCodeWrong)), nil
	}
	h.clearOTP()
	s.Vars[levelVar] = int64(2)
	if p := h.e.PINs; p != nil {
		if has, err := p.Has(h.ctx, s.Phone); err == nil && !has {
			s.Vars[newPINVar] = true
			s.Vars[otpFlowVar], s.Vars[otpGotoVar] = flowRef, gotoStep
			return h.prompt(i18n.AuthPINCreate, ""), nil
		}
	}
	return h.enterGuarded(flowRef, gotoStep)
}

// verifyPIN checks the PIN the citizen typed.
func (h *hop) verifyPIN(text string) (Screen, error) {
	s := h.s
	flowRef, _ := s.Vars[otpFlowVar].(string)
	gotoStep, _ := s.Vars[otpGotoVar].(string)
	h.gating = h.guardedFlow(flowRef)
	m := h.messages()
	if err := h.confirm(); err != nil {
		return Screen{}, err
	}
	ok, err := h.e.PINs.Check(h.ctx, s.Phone, text)
	switch {
	case errors.Is(err, ErrPINLocked):
		h.clearOTP()
		h.say(m.Text(s.Locale, i18n.AuthPINLocked))
		return h.finish(), nil
	case err != nil:
		return Screen{}, fmt.Errorf("checking a PIN: %w", err)
	case !ok:
		return h.prompt(i18n.AuthPINPrompt, m.Text(s.Locale, i18n.AuthPINWrong)), nil
	}
	h.clearOTP()
	s.Vars[levelVar] = int64(2)
	return h.enterGuarded(flowRef, gotoStep)
}

// createPIN takes the PIN a citizen chose after a one-time code, or "0"
// to go on without one.
func (h *hop) createPIN(text string) (Screen, error) {
	s := h.s
	flowRef, _ := s.Vars[otpFlowVar].(string)
	gotoStep, _ := s.Vars[otpGotoVar].(string)
	h.gating = h.guardedFlow(flowRef)
	m := h.messages()
	if text != "0" {
		if len(text) != 4 || strings.Trim(text, "0123456789") != "" {
			return h.prompt(i18n.AuthPINCreate, m.Text(s.Locale, i18n.InvalidInput)), nil
		}
		if err := h.confirm(); err != nil {
			return Screen{}, err
		}
		if err := h.e.PINs.Set(h.ctx, s.Phone, text); err != nil {
			return Screen{}, fmt.Errorf("setting a PIN: %w", err)
		}
		h.say(m.Text(s.Locale, i18n.AuthPINSet))
	}
	h.clearOTP()
	return h.enterGuarded(flowRef, gotoStep)
}

// enterGuarded starts the level 2 flow the citizen has just proved
// themselves for: at the start of the conversation, or through a goto.
func (h *hop) enterGuarded(flowRef, gotoStep string) (Screen, error) {
	s := h.s
	h.gating = nil
	cf := h.guardedFlow(flowRef)
	if cf == nil {
		return Screen{}, fmt.Errorf("level 2 flow %s: %w", flowRef, ErrNoFlow)
	}
	if gotoStep != "" {
		s.Frames = append(s.Frames, conversation.Frame{Flow: cf.ID, Version: cf.Version, Step: cf.Start.ID, Return: gotoStep})
		h.entered(cf)
	}
	return h.goTo(cf, cf.Start.ID)
}

// guardedFlow is the level 2 flow flowRef ("id@version") names, or nil.
func (h *hop) guardedFlow(flowRef string) *Compiled {
	id, version, _ := strings.Cut(flowRef, "@")
	v, _ := strconv.Atoi(version)
	return h.reg.Version(id, v)
}

func (h *hop) clearOTP() {
	for _, k := range []string{otpVar, otpAtVar, otpFlowVar, otpGotoVar, otpTriesVar, pinVar, newPINVar} {
		delete(h.s.Vars, k)
	}
}

// otpHash keeps a code out of the session as it was sent: a session read
// from the store does not reveal it.
func otpHash(phone, code string) string {
	sum := sha256.Sum256([]byte(phone + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

func (e *Engine) code() string {
	if e.Codes != nil {
		return e.Codes()
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return fmt.Sprintf("%06d", binary.BigEndian.Uint32(b[:])%1_000_000)
}
