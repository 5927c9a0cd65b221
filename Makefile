# zego.rtc developer entry points. Each target sets up what it needs (venvs .venv, .venv-2.16, .venv-2.21 from PyPI).
#   make demo      run the batch playbook against the local ZEGO simulator (make demo-eda: the EDA moderation rule)
#   make test      every gate and test (sanity, units, integration on ansible-core 2.16, 2.19, 2.21, EDA, docs, galaxy, lint, ...)
#   make bench     benchmarks (not part of make test); make soak: 15 minutes of sparse use with one state directory
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
# newest ansible-core this Python runs (requirements-dev.txt) and the oldest supported one (requirements-2.16.txt)
VENV ?= $(CURDIR)/.venv
VENV_216 ?= $(CURDIR)/.venv-2.16
# the newest ansible-core (requirements-2.21.txt) needs Python 3.12+: found by hacking/newest_python.sh
VENV_221 ?= $(CURDIR)/.venv-2.21
PYTHON_221 ?= $(shell bash hacking/newest_python.sh)
STAMP := $(VENV)/.installed
STAMP_216 := $(VENV_216)/.installed
STAMP_221 := $(VENV_221)/.installed

export ZEGO_VENV := $(VENV)
export ZEGO_VENV_216 := $(VENV_216)
export ZEGO_VENV_221 := $(VENV_221)

STEPS := sanity module-pythons units sanity-2.16 units-2.16 sanity-2.21 units-2.21 simulator-tests integration integration-2.16 integration-2.21 eda e2e docs changelog requires-ansible galaxy galaxy-importer lint

.PHONY: all venv test demo demo-eda bench soak $(STEPS) clean help debian-tools

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

# Without a Python 3.12/3.13 this only warns (no stamp, so it is tried again next time); the *-2.21 test
# steps then report themselves skipped, or failed under CI=true.
$(STAMP_221): requirements-2.21.txt
	@if [ -z "$(PYTHON_221)" ]; then \
		echo "!!! no Python 3.13 or 3.12 found (pyenv, /usr/local/bin, /usr/bin): cannot create $(VENV_221);" \
			"the ansible-core 2.21 steps will not run (set ZEGO_PYTHON_NEWEST=/path/to/python3.13)" >&2; \
	else \
		echo "== creating $(VENV_221) with $(PYTHON_221)"; \
		rm -rf "$(VENV_221)" && \
		"$(PYTHON_221)" -m venv "$(VENV_221)" && \
		"$(VENV_221)/bin/pip" install -q --disable-pip-version-check -r requirements-2.21.txt && \
		touch "$(STAMP_221)"; \
	fi

venv: $(STAMP) $(STAMP_216) $(STAMP_221)

# Debian tools of the tests, installed here as root when missing: redis-server (the unit tests of the shared
# rate-limit store start their own) and shellcheck (ansible-test's shellcheck sanity test)
debian-tools:
	@bash hacking/debian_tools.sh

test: $(STAMP) $(STAMP_216) $(STAMP_221) debian-tools
	@bash hacking/test.sh all

units units-2.16 units-2.21 e2e sanity sanity-2.16 sanity-2.21: debian-tools

$(STEPS): $(STAMP) $(STAMP_216) $(STAMP_221)
	@bash hacking/test.sh $@

demo: $(STAMP)
	@bash hacking/demo.sh

demo-eda: $(STAMP)
	@bash hacking/demo_eda.sh

bench: $(STAMP)
	@bash hacking/bench.sh

soak: $(STAMP)
	@bash hacking/soak.sh

clean:
	rm -rf "$(VENV)" "$(VENV_216)" "$(VENV_221)" tests/output build
