package privacy_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/ventanilla-gob/ventanilla/internal/privacy"
)

func ExampleNewHandler() {
	p, err := privacy.NewPseudonymizer([]byte("0123456789abcdef0123456789abcdef-test-key")) // from VENTANILLA_PSEUDONYM_KEY
	if err != nil {
		panic(err)
	}
	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{} // for a stable example
		}
		return a
	}})
	log := slog.New(privacy.NewHandler(text, p))

	// Personal data logged through its redacting type…
	log.Info("hop", "carrier", "africastalking", "citizen", privacy.Phone("+593991234567"), "input", privacy.Text("1714307103"))
	// …and what slipped through without one.
	log.Error("hop failed", "flow", "turnos@3", "err", errors.New("registro.citizen: 404 no record for 1714307103"), "phone", "+593991234567")
	// Output:
	// level=INFO msg=hop carrier=africastalking citizen=c_d15c86a6c2fdef80 input="[redacted text, 10 chars]"
	// level=ERROR msg="hop failed" flow=turnos@3 err="registro.citizen: 404 no record for [cedula]" phone=c_d15c86a6c2fdef80
}

func ExampleScrub() {
	fmt.Println(privacy.Scrub("no citizen +593 99 123 4567 (ci 1714307103, ana@example.com)"))
	fmt.Println(privacy.Scrub("401: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"))
	fmt.Println(privacy.Scrub(`flows/turnos.yaml:14:7: unknown step "confrim"; slot 2026-11-24T09:00 took 1.2s`))
	// Output:
	// no citizen [phone] (ci [cedula], [email])
	// 401: Authorization: Bearer [token]
	// flows/turnos.yaml:14:7: unknown step "confrim"; slot 2026-11-24T09:00 took 1.2s
}
