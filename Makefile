# The producer's interface. `make help` lists the targets. Every stage is a file target
# (pattern rules over episodes/<slug>/build/), so `make` rebuilds only what is stale.

SHELL := /bin/bash
VENV ?= .venv
PIPELINE := $(VENV)/bin/pipeline
PYTHON := $(VENV)/bin/python
SAMPLE := 2023-01-06-ai-improving-itself
EP ?= $(SAMPLE)
E := episodes/$(EP)
B := $(E)/build
SETUP := $(VENV)/.setup-stamp
SHOW := assets/show.toml
LEXICON := assets/pronunciations.toml
EPISODES := $(patsubst %/issue.md,%,$(wildcard episodes/*/issue.md))

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint new episode all clean script audio captions slides video \
        review upload feed serve publish bench doctor
.SECONDEXPANSION:
.DELETE_ON_ERROR:

help: ## List the targets with one line each
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  %-9s %s\n", $$1, $$2}'
	@echo "  EP=<slug> picks the episode (default $(SAMPLE))"

setup: $(SETUP) ## Install system tools and the virtual environment (idempotent)

$(SETUP): pyproject.toml scripts/setup.sh
	@bash scripts/setup.sh

demo: $(SETUP) ## Set up and build the sample episode end to end (no network)
	@$(MAKE) --no-print-directory episode EP=$(SAMPLE)

test: $(SETUP) ## Set up and run the linter and the whole test suite
	$(VENV)/bin/ruff check .
	$(PYTHON) -m pytest

lint: $(SETUP) ## Lint with ruff
	$(VENV)/bin/ruff check .

new: $(SETUP) ## Scaffold an episode dated today: EP=<words>
	$(PIPELINE) new $(EP)

episode: $(B)/script.json ## Build one episode: EP=<slug>

all: $(addsuffix /build/script.json,$(EPISODES)) ## Build every episode (use -j2)

script: $(B)/script.json ## Write the script (segments, spoken text): EP=<slug>

clean: ## Remove an episode's build folder: EP=<slug>
	rm -rf $(B)

episodes/%/build/script.json: episodes/%/issue.md $(SHOW) $(LEXICON) | $(SETUP)
	$(PIPELINE) script episodes/$*
