package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/diag"
)

// A notification may ask the citizen something: with `reply`, the
// citizen's answer (SMS, WhatsApp, Telegram) runs that flow, with
// `reply_vars` and the answer in the variable reply, for `reply_within`.

// Limits of a notification's question.
const (
	DefaultReplyWithin = 72 * time.Hour
	MaxReplyWithin     = 30 * 24 * time.Hour
	MaxReplyVars       = 10
)

// Question is what the gateway keeps, before a notification that asks
// goes out, so that the answer runs its flow.
type Question struct {
	ID          string // the notification's id
	Institution string // the institution whose token sent it
	To          string // the citizen's number
	Channel     string // what it goes out on: sms, whatsapp, telegram
	Carrier     string
	Locale      string
	Flow        string
	Vars        map[string]string
	Until       time.Time // when an answer stops counting
}

// Asker keeps the questions of notifications: the gateway's, shared by
// every instance.
type Asker interface {
	Ask(ctx context.Context, q Question) error
}

// AskingLater is a Later that also keeps a notification sent later that
// asks: its question is kept when it goes out, not before, so that a
// message the citizen sends before then is not taken for its answer.
type AskingLater interface {
	Later
	ScheduleAsking(ctx context.Context, at time.Time, m carrier.Message, validFor time.Duration, q Question) error
}

// checkReply validates reply, reply_vars and reply_within.
func (h *Handler) checkReply(req request) *apiError {
	if req.Reply == "" {
		if len(req.ReplyVars) > 0 || req.ReplyWithin != "" {
			return bad("reply", "reply_vars and reply_within need reply: the flow the citizen's answer runs")
		}
		return nil
	}
	if h.o.Asker == nil || h.o.ReplyFlows == nil {
		return bad("reply", "reply is not available here: citizens' answers to notifications are not routed")
	}
	flows := h.o.ReplyFlows()
	if !slices.Contains(flows, req.Reply) {
		return bad("reply", "unknown flow %q%s", req.Reply, diag.DidYouMean(req.Reply, flows))
	}
	if req.SendAt != "" {
		if _, ok := h.o.Later.(AskingLater); !ok {
			return bad("reply", "reply with send_at is not available here")
		}
	}
	if len(req.ReplyVars) > MaxReplyVars {
		return bad("reply_vars", "at most %d reply_vars", MaxReplyVars)
	}
	for name, v := range req.ReplyVars {
		if !validVar(name) || name == "reply" {
			return bad("reply_vars."+name, "reply_vars names are letters, digits and _, not reply (the answer's own)")
		}
		if utf8.RuneCountInString(v) > MaxParam || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return bad("reply_vars."+name, "reply_vars.%s is over %d characters or has control characters", name, MaxParam)
		}
	}
	if req.ReplyWithin != "" {
		d, err := time.ParseDuration(req.ReplyWithin)
		if err != nil || d < time.Minute || d > MaxReplyWithin {
			return bad("reply_within", "reply_within is a duration from 1m to %dh, like \"72h\"", int(MaxReplyWithin/time.Hour))
		}
	}
	return nil
}

func validVar(name string) bool {
	if name == "" || len(name) > 64 || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// question is the question of notification n, sent at from, or nil.
func (h *Handler) question(inst string, req request, n notification, from time.Time) *Question {
	if req.Reply == "" {
		return nil
	}
	within := DefaultReplyWithin
	if req.ReplyWithin != "" {
		within, _ = time.ParseDuration(req.ReplyWithin) // checked in checkReply
	}
	return &Question{ID: n.id, Institution: inst, To: req.To, Channel: n.channel, Carrier: n.msg.Carrier, Locale: n.locale,
		Flow: req.Reply, Vars: req.ReplyVars, Until: from.Add(within)}
}

// replyFingerprint is what reply adds to a request's fingerprint.
func replyFingerprint(req request) string {
	if req.Reply == "" {
		return ""
	}
	names := make([]string, 0, len(req.ReplyVars))
	for n := range req.ReplyVars {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	fmt.Fprintf(&b, " reply=%q within=%q", req.Reply, req.ReplyWithin)
	for _, n := range names {
		fmt.Fprintf(&b, " %q=%q", n, req.ReplyVars[n])
	}
	return b.String()
}
