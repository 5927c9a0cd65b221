# zego.rtc developer entry points. Each target sets up what it needs (a venv in .venv from PyPI).
#   make demo   run the batch playbook against the local ZEGO simulator
#   make test   every gate and test (sanity, units, simulator, integration, lint, ...)
#   make bench  benchmarks (not part of make test)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= $(CURDIR)/.venv
STAMP := $(VENV)/.installed

export ZEGO_VENV := $(VENV)

.PHONY: all venv test demo bench sanity units simulator-tests integration lint e2e clean help

all: help

help:
	@sed -n '2,5p' Makefile

$(STAMP): requirements-dev.txt
	@echo "== creating $(VENV) with $(PYTHON)"
	@rm -rf "$(VENV)"
	"$(PYTHON)" -m venv "$(VENV)"
	"$(VENV)/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt
	@touch "$(STAMP)"

venv: $(STAMP)

test: $(STAMP)
	@bash hacking/test.sh all

sanity units simulator-tests integration lint e2e: $(STAMP)
	@bash hacking/test.sh $@

demo: $(STAMP)
	@bash hacking/demo.sh

bench: $(STAMP)
	@bash hacking/bench.sh

clean:
	rm -rf "$(VENV)" tests/output build
