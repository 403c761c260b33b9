# Tessera build, test and tooling targets.
GO      ?= go
PKGS    ?= ./...
FUZZTIME ?= 10s

.PHONY: all build test test-short fuzz bench lint demo conformance clean

all: build

build:
	$(GO) build -o bin/tessera ./cmd/tessera

## test: every test, with the race detector, in shuffled order
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -shuffle=on -count=1 -timeout 20m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

## fuzz: a short pass over every Fuzz target
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$pkg; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet $(PKGS)
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck $(PKGS); else echo "staticcheck not installed; skipped"; fi

conformance:
	$(GO) run ./cmd/tessera conformance testdata/vectors

## demo: the main job: a local network with an embedded store, posting demo blobs
demo:
	$(GO) run ./cmd/tessera devnet --full 2 --light 3 --demo

clean:
	rm -rf bin
