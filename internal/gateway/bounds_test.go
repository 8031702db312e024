package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/interop/flowcall"

	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/interop"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// bigBody answers every call with a JSON document of n bytes.
type bigBody struct{ n int }

func (b bigBody) Call(context.Context, string, map[string]any) interop.Response {
	return interop.Response{Outcome: interop.OK, Body: []byte(`{"doc":"` + strings.Repeat("x", b.n) + `"}`)}
}

const hoarder = `spec_version: 1
id: hoarder
version: 1
institution: X
title: {es: Acumula}
locales: [es]
start: fetch
steps:
  fetch:
    kind: call
    service: big
    save: {doc: doc}
    on: {ok: ask}
  ask:
    kind: input
    text: {es: Escriba algo}
    save: answer
    next: fetch
`

// A flow that piles data into its session is stopped at the bound: the
// citizen gets a localised apology, the operator a log line, and the
// store never holds the oversized session.
func TestSessionSizeIsBounded(t *testing.T) {
	bothStores(t, func(t *testing.T, store sessions.Store) {
		g := newGateway(t, store)
		reg, ps := flows.Load([]flows.Source{{Name: "hoarder.yaml", Data: []byte(hoarder)}}, flows.Env{Messages: g.Engine.Messages})
		if ps.HasErrors() {
			t.Fatal(ps)
		}
		g.Engine.Flows = func() *flows.Registry { return reg }
		g.Engine.Root = "hoarder"
		g.Engine.Caller = flowcall.Caller(bigBody{n: flows.MaxSessionSize + 1})
		var logs bytes.Buffer
		g.Log = slog.New(slog.NewTextHandler(&logs, nil))
		in := at("s", "")
		in.Phone = "+593991000777"
		r := hop(t, g, in)
		want := g.Engine.Messages.Text("es", i18n.FlowTooLarge)
		if !r.End || r.Text != want {
			t.Errorf("reply %+v, want the end %q", r, want)
		}
		if !strings.Contains(logs.String(), "flow outgrew its session") || !strings.Contains(logs.String(), "hoarder@1") {
			t.Errorf("no log line naming the flow:\n%s", logs.String())
		}
		// What stays is at most the ended conversation's record of its
		// reply (for a carrier repeating the request), never the session.
		rec, err := store.Get(context.Background(), gateway.Key(in))
		var s conversation.State
		if err == nil {
			err = s.UnmarshalBinary(rec.Data)
		}
		if err != nil && !errors.Is(err, sessions.ErrNotFound) || len(rec.Data) > 512 || len(s.Frames) != 0 {
			t.Errorf("the oversized session was stored (%d bytes, %d frames, err %v)", len(rec.Data), len(s.Frames), err)
		}
	})
}
