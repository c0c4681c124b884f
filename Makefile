# The producer's interface. `make help` lists the targets; file targets mean `make`
# rebuilds only what is stale.

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

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint episode script clean

help: ## List the targets with one line each
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'
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

episode: $(B)/script.json ## Build an episode: EP=<slug>

script: $(B)/script.json ## Write the script (segments, spoken text): EP=<slug>

$(B)/script.json: $(E)/issue.md $(SHOW) $(LEXICON) | $(SETUP)
	$(PIPELINE) script $(E)

clean: ## Remove an episode's build folder: EP=<slug>
	rm -rf $(B)
