# Ventanilla — the two commands that matter: `make run` and `make test`.
GO      ?= go
ADDR    ?= 127.0.0.1:8080
BIN     := bin/ventanilla
# Root can install packages directly; anyone else needs sudo.
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help run test build lint bench docs screenshots deps assets clean

## help: list the targets and what each does
help:
	@awk '/^## /{ sub(/^## /, ""); i = index($$0, ": "); printf "  %-7s %s\n", substr($$0, 1, i-1), substr($$0, i+2) }' $(MAKEFILE_LIST)

## run: build and start the gateway with the catalogue flows and the sample back-end (no Redis needed)
run: build
	./$(BIN) demo --addr $(ADDR)

## build: compile the one binary
build:
	$(GO) build -o $(BIN) ./cmd/ventanilla

## test: install what the tests need (redis-server, redis-cli, Kannel, Chromium), then run every test, fuzz seed corpus and transcript
test: deps
	$(GO) vet ./...
	VENTANILLA_REQUIRE_REDIS=1 VENTANILLA_REQUIRE_KANNEL=1 VENTANILLA_REQUIRE_CHROMIUM=1 $(GO) test -race -count=1 ./...

## deps: install the real servers the tests run against, when missing
deps:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (the Redis contract tests run against a real server)"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@command -v redis-server >/dev/null 2>&1 || { echo "redis-server could not be installed"; exit 1; }
	@command -v redis-cli >/dev/null 2>&1 || { \
		echo "installing redis-tools (redis-cli forms the Redis Cluster the tests run against)"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools >/dev/null; }
	@command -v redis-cli >/dev/null 2>&1 || { echo "redis-cli could not be installed"; exit 1; }
	@{ command -v bearerbox || test -x /usr/sbin/bearerbox; } >/dev/null 2>&1 && test -x /usr/lib/kannel/test/fakesmsc || { \
		echo "installing kannel and kannel-extras (the Kannel tests run against real bearerbox, smsbox and fakesmsc)"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kannel kannel-extras >/dev/null; }
	@{ command -v bearerbox || test -x /usr/sbin/bearerbox; } >/dev/null 2>&1 && test -x /usr/lib/kannel/test/fakesmsc || { echo "kannel and kannel-extras could not be installed"; exit 1; }
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (the studio's browser tests drive a real headless Chromium)"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v chromium >/dev/null 2>&1 || { echo "chromium could not be installed"; exit 1; }

## lint: formatting, vet, and the catalogue flows in strict mode
# The catalogue is linted for the deployment it is written for, one with an
# SMS carrier (late results of async calls go out by SMS): the lint reads the
# same environment as serve, and without a carrier it warns async-without-sms.
# The URL is only a marker; the lint sends nothing.
LINT_ENV := KANNEL_SENDSMS_URL=http://127.0.0.1:13013/cgi-bin/sendsms
lint: build
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	env $(LINT_ENV) ./$(BIN) flows lint --strict

## bench: the hot-path benchmarks (engine hop, stores, codec, rendering)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## docs: regenerate the flow language reference (docs/flows.md), the carriers' part of docs/operations.md, and the manifest reference and system messages of docs/institutions.md
docs:
	$(GO) test ./flows -run TestDocsReferenceIsFresh -update-docs
	$(GO) test ./cmd/ventanilla -run TestDocsCarriersAreFresh -update-docs
	$(GO) test ./internal/institution -run TestDocsReferenceIsFresh -update-docs
	$(GO) test ./i18n -run TestDocsMessagesAreFresh -update-docs

## screenshots: take the studio's pictures in docs/studio.md again (needs chromium), with the screens they show
screenshots: deps
	$(GO) test ./internal/studio -run TestScreenshots -count=1 -update-screenshots

## assets: vendor axe-core (the studio's accessibility check in the browser tests) from npm, pinned and integrity-checked
# The studio's own page needs no library; axe-core runs only in its browser
# tests. The file is committed, so tests and builds need no network; this
# target is how it was made and how to move it to another version.
AXE_VERSION   := 4.14.1
AXE_INTEGRITY := sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_DIR       := internal/studio/testdata/axe-core
assets:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	( cd "$$tmp" && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null ) && \
	got="sha512-$$(openssl dgst -sha512 -binary "$$tmp/axe-core-$(AXE_VERSION).tgz" | base64 -w0)" && \
	if [ "$$got" != "$(AXE_INTEGRITY)" ]; then echo "axe-core $(AXE_VERSION): integrity $$got, want $(AXE_INTEGRITY)"; exit 1; fi && \
	tar -xzf "$$tmp/axe-core-$(AXE_VERSION).tgz" -C "$$tmp" package/axe.min.js package/LICENSE && \
	mkdir -p $(AXE_DIR) && cp "$$tmp/package/axe.min.js" "$$tmp/package/LICENSE" $(AXE_DIR)/ && \
	printf 'axe-core %s\nintegrity %s\nsha256 %s\n' $(AXE_VERSION) $(AXE_INTEGRITY) $$(sha256sum $(AXE_DIR)/axe.min.js | cut -d' ' -f1) > $(AXE_DIR)/VERSION && \
	echo "vendored axe-core $(AXE_VERSION) into $(AXE_DIR)"

## clean: remove the built binary
clean:
	rm -rf bin
