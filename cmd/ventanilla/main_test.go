package main

import (
	"context"
	"os"
	"testing"
)

// asMain makes the test binary act as the ventanilla command when a test
// starts it as a child process, as bench starts "ventanilla baseline".
const asMain = "VENTANILLA_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Setenv(asMain, "1")
	os.Exit(m.Run())
}
