package gateway_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// A store error the hop survives — here Redis refuses to read the
// citizen's profile, as a Cluster refused it with CROSSSLOT — is logged,
// with its kind, and once however many hops meet it.
func TestSurvivedStoreErrorsAreLoggedOncePerKind(t *testing.T) {
	client := redistest.Start(t)
	if err := client.Do(t.Context(), "ACL", "SETUSER", "default", "-mget").Err(); err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, sessions.NewRedis(client, sessions.RedisOptions{}))
	var out testutil.Buffer
	g.Log = slog.New(slog.NewTextHandler(&out, nil))
	for i := range 20 {
		in := at(fmt.Sprint("s", i), "")
		in.Phone = fmt.Sprintf("+5939912345%02d", i)
		if r := hop(t, g, in); !strings.HasPrefix(r.Text, "Bienvenido a Ventanilla") {
			t.Fatalf("hop %d: %q; the conversation should start without the profile", i, r.Text)
		}
	}
	lines := strings.Count(out.String(), "session store failed")
	if lines != 1 || !strings.Contains(out.String(), "kind=NOPERM") || !strings.Contains(out.String(), "doing=\"reading the citizen's profile\"") {
		t.Fatalf("%d log lines for 20 failed profile reads, want 1 with its kind:\n%s", lines, out.String())
	}
}
