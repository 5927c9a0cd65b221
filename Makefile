# zego.rtc developer entry points. Each target sets up what it needs (venvs in .venv and .venv-2.16 from PyPI).
#   make demo   run the batch playbook against the local ZEGO simulator
#   make test   every gate and test (sanity, units, integration on ansible-core 2.16 and 2.19, docs, changelog, galaxy, lint, ...)
#   make bench  benchmarks (not part of make test)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
# newest ansible-core this Python runs (requirements-dev.txt) and the oldest supported one (requirements-2.16.txt)
VENV ?= $(CURDIR)/.venv
VENV_216 ?= $(CURDIR)/.venv-2.16
STAMP := $(VENV)/.installed
STAMP_216 := $(VENV_216)/.installed

export ZEGO_VENV := $(VENV)
export ZEGO_VENV_216 := $(VENV_216)

STEPS := sanity module-pythons units sanity-2.16 units-2.16 simulator-tests integration integration-2.16 e2e docs changelog requires-ansible galaxy lint

.PHONY: all venv test demo bench $(STEPS) clean help redis-server

all: help

help:
	@sed -n '2,4p' Makefile
	@echo "  single steps: $(foreach s,$(STEPS),make $(s);)"

$(STAMP): requirements-dev.txt
	@echo "== creating $(VENV) with $(PYTHON)"
	@rm -rf "$(VENV)"
	"$(PYTHON)" -m venv "$(VENV)"
	"$(VENV)/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt
	@touch "$(STAMP)"

$(STAMP_216): requirements-2.16.txt
	@echo "== creating $(VENV_216) with $(PYTHON)"
	@rm -rf "$(VENV_216)"
	"$(PYTHON)" -m venv "$(VENV_216)"
	"$(VENV_216)/bin/pip" install -q --disable-pip-version-check -r requirements-2.16.txt
	@touch "$(STAMP_216)"

venv: $(STAMP) $(STAMP_216)

# the unit tests of the shared rate-limit store start their own redis-server (installed here as root)
redis-server:
	@bash hacking/redis_server.sh

test: $(STAMP) $(STAMP_216) redis-server
	@bash hacking/test.sh all

units units-2.16: redis-server

$(STEPS): $(STAMP) $(STAMP_216)
	@bash hacking/test.sh $@

demo: $(STAMP)
	@bash hacking/demo.sh

bench: $(STAMP)
	@bash hacking/bench.sh

clean:
	rm -rf "$(VENV)" "$(VENV_216)" tests/output build
