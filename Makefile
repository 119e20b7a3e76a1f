# Shuzhi: the two commands a fresh machine needs are `make run` and `make test`.
GO      ?= go
BIN     := bin/shuzhi
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/shuzhi-gov/shuzhi/internal/app.Version=$(VERSION)

.PHONY: run build web test lint bench clean

## run: build everything and run the platform with the demo district on embedded defaults
run: build
	./$(BIN) serve --demo

## build: the single binary, with the web UI compiled in
build: web
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/shuzhi

web:
	bash scripts/deps.sh run
	bash scripts/build-web.sh

## test: the whole suite (what CI runs)
test:
	bash scripts/test.sh

lint:
	bash scripts/lint.sh

## bench: Go benchmarks and the load programs behind docs/PERFORMANCE.md
bench: build
	bash scripts/deps.sh bench
	bash scripts/bench.sh
	bash scripts/bench-ledger.sh

clean:
	rm -rf bin web/dist
	find internal/webui/dist -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
