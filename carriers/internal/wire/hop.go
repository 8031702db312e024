package wire

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// Fallback is the last screen when the gateway gave nothing to show (it
// panicked, or failed without a reply). Spanish, the product's default
// locale: the citizen's own locale is unknown at that point.
const Fallback = "Servicio no disponible. Intente más tarde."

// Hop runs one hop and always returns a reply the adapter can frame.
//
// Carriers turn an HTTP error (or a body they cannot parse) into a
// generic, untranslated error on the handset, so our own failure must
// still answer 200 with a final screen in the carrier's format. With an
// error the gateway still returns a localised reply: it is kept, and the
// session is ended because its state is unknown. A failure without text
// and a panic get Fallback. net/http's own "abort quietly" panic is left
// alone. Logs carry the error, never the Inbound (personal data).
func Hop(ctx context.Context, hop carrier.Hopper, in carrier.Inbound, log *slog.Logger) (rep carrier.Reply) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		log.Error("ussd hop panicked", "panic", p, "stack", string(debug.Stack()))
		rep = carrier.Reply{Text: Fallback, End: true}
	}()
	rep, err := hop.Hop(ctx, in)
	if err != nil {
		log.Error("ussd hop failed", "err", err)
		rep.End = true
		if strings.TrimSpace(rep.Text) == "" {
			rep.Text = Fallback
		}
	}
	return rep
}
