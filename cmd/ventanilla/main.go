// Command ventanilla is the one binary of the gateway: serve, demo, flows
// lint|test|graph and simulate.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ventanilla-gob/ventanilla/diag"
	"github.com/ventanilla-gob/ventanilla/flows"
)

const usage = `ventanilla — multi-channel citizen access gateway

Usage:
  ventanilla serve [flags]          run the gateway
  ventanilla demo [flags]           run the gateway and the sample institution back-end
  ventanilla flows lint [--strict] [PATH...]   flow files, or institution packages
  ventanilla flows test [-update] [PATH...]   transcripts, or institution packages (their testdata/conversations)
  ventanilla flows graph FLOW
  ventanilla flows reference        print the flow language reference (Markdown)
  ventanilla flows schema           print the JSON Schema of a flow file, for editors
  ventanilla catalogue [--json] [PACKAGE...]  the services the packages offer (as GET /v1/catalogue)
  ventanilla indicators [--url URL] [--from D --to D --granularity G --format table|json|csv --institution I --service S]
                                    the published indicators (as GET /v1/indicators)
  ventanilla institution new ID [--dir DIR]   write a new institution package that lints clean
  ventanilla institution reference            print the manifest reference (Markdown)
  ventanilla audit [--institution ID] [--from DAY] [--to DAY]  the access audit trail, per institution
  ventanilla simulate [FLOW]        talk to a flow as a feature phone would
  ventanilla studio [flags]         the flow author's studio in the browser (loopback)
  ventanilla bench [flags]          load a running gateway with simulated citizens, against a net/http baseline
  ventanilla baseline [--carrier C] the bare net/http baseline bench starts in a process of its own

Run "ventanilla COMMAND -h" for the flags of a command. Every flag can also
be set as an environment variable VENTANILLA_<FLAG> (dashes as underscores).
`

var flowsCommands = []string{"lint", "test", "graph", "reference", "schema"}

const flowsUsage = `ventanilla flows — check, test and draw flows

Usage:
  ventanilla flows lint [--strict] [PATH...]   check flow files (exit 1 on errors)
  ventanilla flows test [--update] [PATH...]   run golden transcripts (default testdata/conversations)
  ventanilla flows graph FLOW                  print a flow as a Mermaid state diagram
  ventanilla flows reference                   print the flow language reference (Markdown)
  ventanilla flows schema                      print the JSON Schema of a flow file, for editors

Flags may come before or after the arguments; "ventanilla flows lint -h"
lists a command's flags (--flows DIR, --services FILE, ...).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr, false)
	case "demo":
		return cmdServe(ctx, args[1:], stdout, stderr, true)
	case "flows":
		if len(args) < 2 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		switch args[1] {
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, flowsUsage)
			return 0
		case "lint":
			return cmdLint(args[2:], stdout, stderr)
		case "test":
			return cmdFlowTest(ctx, args[2:], stdout, stderr)
		case "graph":
			return cmdGraph(args[2:], stdout, stderr)
		case "reference":
			fmt.Fprint(stdout, flows.Reference())
			return 0
		case "schema":
			return cmdSchema(args[2:], stdout, stderr)
		}
		fmt.Fprintf(stderr, "unknown flows command %q%s\n\n%s", args[1], diag.DidYouMean(args[1], flowsCommands), flowsUsage)
		return 2
	case "catalogue":
		return cmdCatalogue(args[1:], stdout, stderr)
	case "indicators":
		return cmdIndicators(ctx, args[1:], stdout, stderr)
	case "institution":
		return cmdInstitution(args[1:], stdout, stderr)
	case "audit":
		return cmdAudit(ctx, args[1:], stdout, stderr)
	case "simulate":
		return cmdSimulate(ctx, args[1:], stdin, stdout, stderr)
	case "studio":
		return cmdStudio(ctx, args[1:], stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], stdout, stderr)
	case "baseline":
		return cmdBaseline(ctx, args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return 2
}
