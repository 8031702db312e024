package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ventanilla-gob/ventanilla/sessions"
)

// A store error is transient when it passes with time (the store slow,
// unreachable, failing over); the deployment's own errors are not.
func TestTransientStoreErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		kind string
		want bool
	}{
		{context.DeadlineExceeded, "timeout", true},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), "timeout", true},
		{context.Canceled, "canceled", true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, "network", true},
		{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, "network", true},
		{io.EOF, "network", true},
		{io.ErrUnexpectedEOF, "network", true},
		{redis.ErrPoolTimeout, "network", true},
		{sessions.ErrUnavailable, "unavailable", true},
		{fmt.Errorf("reading: %w", sessions.ErrUnavailable), "unavailable", true},
		{errors.New("CLUSTERDOWN The cluster is down"), "CLUSTERDOWN", true},
		{errors.New("TRYAGAIN Multiple keys request during rehashing of slot"), "TRYAGAIN", true},
		{errors.New("LOADING Redis is loading the dataset in memory"), "LOADING", true},
		{errors.New("MASTERDOWN Link with MASTER is down"), "MASTERDOWN", true},
		{errors.New("MOVED 3999 127.0.0.1:6381"), "MOVED", true},
		{errors.New("ASK 3999 127.0.0.1:6381"), "ASK", true},
		{errors.New("READONLY You can't write against a read only replica."), "READONLY", true},
		{errors.New("NOPERM User default has no permissions to run the 'mget' command"), "NOPERM", false},
		{errors.New("CROSSSLOT Keys in request don't hash to the same slot"), "CROSSSLOT", false},
		{errors.New("WRONGTYPE Operation against a key holding the wrong kind of value"), "WRONGTYPE", false},
		{errors.New("ERR unknown command 'mget'"), "ERR", false},
		{errors.New("something else"), "other", false},
	} {
		if got := errorKind(c.err); got != c.kind {
			t.Errorf("errorKind(%v) = %q, want %q", c.err, got, c.kind)
		}
		if got := transient(c.err); got != c.want {
			t.Errorf("transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
