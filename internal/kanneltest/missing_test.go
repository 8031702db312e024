package kanneltest

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// stub records how Start gave up; Skip and Fatal end only the goroutine
// Start runs in, as they end a test's.
type stub struct {
	testing.TB
	skipped, failed string
}

func (s *stub) Skip(args ...any)  { s.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (s *stub) Fatal(args ...any) { s.failed = fmt.Sprint(args...); runtime.Goexit() }
func (s *stub) Fatalf(format string, args ...any) {
	s.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func startWithout(t *testing.T) *stub {
	saved, savedLoud := binaries, loud
	loud = io.Discard
	binaries = map[string][]string{"bearerbox": {"/nonexistent/bearerbox"}, "smsbox": nil, "fakesmsc": nil}
	t.Cleanup(func() { binaries, loud = saved, savedLoud })
	t.Setenv("PATH", t.TempDir())
	s := &stub{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(s, Options{GetURL: "http://127.0.0.1:1/x"})
	}()
	<-done
	return s
}

func TestMissingBinaries(t *testing.T) {
	t.Run("skipped on a developer machine", func(t *testing.T) {
		t.Setenv("CI", "")
		t.Setenv("VENTANILLA_REQUIRE_KANNEL", "")
		s := startWithout(t)
		if s.failed != "" || !strings.Contains(s.skipped, "kannel-extras") {
			t.Errorf("skipped %q, failed %q", s.skipped, s.failed)
		}
	})
	for _, env := range []string{"CI", "VENTANILLA_REQUIRE_KANNEL"} {
		t.Run("fails when "+env+" asks for Kannel", func(t *testing.T) {
			t.Setenv("CI", "")
			t.Setenv("VENTANILLA_REQUIRE_KANNEL", "")
			t.Setenv(env, map[string]string{"CI": "true", "VENTANILLA_REQUIRE_KANNEL": "1"}[env])
			s := startWithout(t)
			if s.skipped != "" || !strings.Contains(s.failed, "bearerbox") {
				t.Errorf("skipped %q, failed %q", s.skipped, s.failed)
			}
		})
	}
}
