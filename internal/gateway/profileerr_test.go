package gateway_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// profileGetFails is a store whose single reads of a citizen's profile
// fail with err; it cannot read several keys at once.
type profileGetFails struct {
	sessions.Store
	err error
}

func (s profileGetFails) Get(ctx context.Context, key string) (sessions.Record, error) {
	if strings.HasPrefix(key, "profile:") {
		return sessions.Record{}, s.err
	}
	return s.Store.Get(ctx, key)
}

// multiGetFails is a Redis store whose reads of several keys at once —
// the citizen's profile and kept result — fail with err.
type multiGetFails struct {
	*sessions.Redis
	err error
}

func (s multiGetFails) GetMulti(context.Context, ...string) ([]sessions.Record, error) {
	return nil, s.err
}

// A returning citizen whose profile cannot be read because the store is
// failing for a while (a timeout, a dropped connection, the breaker open,
// a Cluster failing over) is not asked their language again as if it
// were a first contact: they get "service unavailable", and nothing is
// written. A store that refuses the read for good (NOPERM) lets the
// conversation go on without the profile, in the default language.
func TestTransientProfileReadErrorAnswersServiceUnavailable(t *testing.T) {
	client := redistest.Start(t)
	transient := map[string]error{
		"deadline":    context.DeadlineExceeded,
		"timeout":     &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}},
		"reset":       &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET},
		"eof":         io.EOF,
		"breaker":     sessions.ErrUnavailable,
		"clusterdown": errors.New("CLUSTERDOWN The cluster is down"),
		"tryagain":    errors.New("TRYAGAIN Multiple keys request during rehashing of slot"),
		"loading":     errors.New("LOADING Redis is loading the dataset in memory"),
		"masterdown":  errors.New("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'"),
	}
	stores := map[string]func(base *sessions.Redis, err error) sessions.Store{
		"get":      func(base *sessions.Redis, err error) sessions.Store { return profileGetFails{base, err} },
		"getmulti": func(base *sessions.Redis, err error) sessions.Store { return multiGetFails{base, err} },
	}
	i := 0
	for sname, wrap := range stores {
		for ename, err := range transient {
			i++
			t.Run(sname+"/"+ename, func(t *testing.T) {
				ctx := context.Background()
				base := sessions.NewRedis(client, sessions.RedisOptions{Prefix: "t" + string(rune('a'+i)) + ":"})
				in := at("s", "")
				if err := base.Set(ctx, keys.Profile(in.Phone), []byte("es"), time.Hour); err != nil {
					t.Fatal(err)
				}
				g := newGateway(t, wrap(base, err))
				r, herr := g.Hop(ctx, in)
				if herr == nil {
					t.Errorf("the hop reports no error")
				}
				if !strings.HasPrefix(r.Text, "Servicio no disponible") || !r.End {
					t.Errorf("reply %q (end %v); want the service unavailable, ending", r.Text, r.End)
				}
				if _, err := base.Get(ctx, gateway.Key(in)); !errors.Is(err, sessions.ErrNotFound) {
					t.Errorf("a conversation was written (err %v); want none", err)
				}
				// Once the store is back, the citizen is known again.
				g.Store = base
				if r := hop(t, g, at("s2", "")); strings.Contains(r.Text, "Elija su idioma") {
					t.Errorf("after the fault: %q; a returning citizen is asked the language", r.Text)
				}
			})
		}
	}
	t.Run("noperm", func(t *testing.T) {
		base := sessions.NewRedis(client, sessions.RedisOptions{Prefix: "noperm:"})
		g := newGateway(t, multiGetFails{base, errors.New("NOPERM User default has no permissions to run the 'mget' command")})
		if r := hop(t, g, at("s", "")); !strings.HasPrefix(r.Text, "Bienvenido a Ventanilla") {
			t.Errorf("%q; the conversation should go on without the profile", r.Text)
		}
	})
}

// timeoutErr is an I/O deadline passing.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
