# The producer's interface. `make help` lists the targets. Every stage is a file target
# (pattern rules over episodes/<slug>/build/), so `make` rebuilds only what is stale.

SHELL := /bin/bash
HERE := $(dir $(lastword $(MAKEFILE_LIST)))
VENV ?= .venv
PIPELINE := $(VENV)/bin/pipeline
PYTHON := $(VENV)/bin/python
SAMPLE := 2023-01-06-ai-improving-itself
# EP as typed: make expands a variable given on the command line or in the environment, so
# EP='$(shell ...)' ran a command, whatever the goal; its value is kept as plain text
ifneq ($(origin EP),undefined)
override EP := $(value EP)
endif
EP ?= $(SAMPLE)
E := episodes/$(EP)
B := $(E)/build
SETUP := $(VENV)/.setup-stamp
# Stages run in forks of a warm process that has them imported (pipeline/warm.py), which
# saves a third of a second or more a stage; PIPELINE_WARM=0 starts each one afresh
PIPELINE_WARM ?= 1
export PIPELINE_WARM
SHOW := assets/show.toml
LEXICON := assets/pronunciations.toml
# Only folders named with a slug's characters reach a rule line: a `;` in a name ended the
# line of `all:` or `public/feed.xml:` there, and make ran the rest as the recipe
SLUG_CHARS := a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 - /
drop_chars = $(if $2,$(call drop_chars,$(subst $(firstword $2),,$1),$(wordlist 2,99,$2)),$1)
slug_named = $(foreach w,$1,$(if $(call drop_chars,$w,$(SLUG_CHARS)),,\
    $(if $(wildcard $w/issue.md),$w)))
EPISODES := $(call slug_named,$(patsubst %/issue.md,%,$(wildcard episodes/*/issue.md)))
# EP as one shell word, single-quoted
QEP := '$(subst ','\'',$(EP))'

# A target that takes EP= gets an existing episode's slug, checked before any rule runs: a
# typo is one line with the closest slugs, and no path outside episodes/ gets through.
EP_GOALS := episode script narrate master captions slides video review upload lexicon clean check
ifneq ($(filter $(EP_GOALS),$(MAKECMDGOALS)),)
EP_CHECK := $(shell $(firstword $(wildcard $(PYTHON)) python3) \
    $(HERE)pipeline/tools/ep_check.py $(QEP) 2>&1)
ifneq ($(EP_CHECK),ok)
$(error $(or $(EP_CHECK),EP=$(EP): cannot check it without python3 (install it)))
endif
endif
ifeq ($(filter new,$(MAKECMDGOALS)) $(origin EP),new file)
$(error make new: name the episode: make new EP=<words>)
endif

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-fast lint new episode all clean script narrate master captions \
        slides video review upload youtube-login feed serve publish bench doctor lexicon artwork check
.DELETE_ON_ERROR:
# every built file is kept: none is an intermediate for make to delete after a chain
.SECONDARY:
# Nor deleted when a recipe fails or is stopped: each stage writes its files whole or not
# at all, and one that waited for another build of the episode (the build lock) would
# delete that build's good files.
STAGE_FILES := script.json narration.wav timeline.json episode.mp3 episode.m4a chapters.json \
    captions.vtt captions.srt qa.json transcript.json slides.json thumbnail.jpg video.mp4 \
    youtube-title.txt youtube-description.txt review.html
.PRECIOUS: $(addprefix episodes/%/build/,$(STAGE_FILES)) public/feed.xml

help: ## List the targets with one line each
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'
	@echo "  EP=<slug> picks the episode (default $(SAMPLE))"

setup: $(SETUP) ## Install system tools and the virtual environment (idempotent)

$(SETUP): pyproject.toml scripts/setup.sh
	@bash scripts/setup.sh

demo: $(SETUP) ## Set up and build the sample episode end to end, and the feed (no network)
	@$(MAKE) --no-print-directory episode EP=$(SAMPLE)
	@$(MAKE) --no-print-directory feed

test: $(SETUP) ## Set up and run the linter and the whole test suite
	$(VENV)/bin/ruff check .
	$(PYTHON) -m pytest

test-fast: $(SETUP) ## The linter and the tests that need no voice, model or encoder (seconds)
	$(VENV)/bin/ruff check .
	$(PYTHON) -m pytest -m "not slow"

lint: $(SETUP) ## Lint with ruff
	$(VENV)/bin/ruff check .

new: $(SETUP) ## Scaffold an episode dated today: EP=<words>
	$(PIPELINE) new $(QEP)

episode: $(B)/review.html ## Build one episode: script, narrate, master, captions, slides, video, review

all: $(addsuffix /build/review.html,$(EPISODES)) ## Build every episode (use -j2)

script: $(B)/script.json ## Write the script (segments, spoken text): EP=<slug>
narrate: $(B)/timeline.json ## Speak the script: narration.wav and timeline.json: EP=<slug>
master: $(B)/episode.mp3 ## Music, loudness, the MP3 with tags and chapters, the video's sound: EP=<slug>
captions: $(B)/captions.vtt ## Transcribe and write captions and QA: EP=<slug>
slides: $(B)/slides.json ## Draw the slides and the thumbnail: EP=<slug>
video: $(B)/video.mp4 ## Assemble the video, title and description: EP=<slug>
review: $(B)/review.html ## Write the review page to check before publishing: EP=<slug>

upload: $(B)/video.mp4 $(B)/thumbnail.jpg $(B)/captions.vtt | $(SETUP) ## Upload to YouTube (resumes; never twice): EP=<slug>
	$(PIPELINE) upload $(E)

check: $(B)/review.html public/feed.xml | $(SETUP) ## Pre-flight: will Apple, Spotify and YouTube take it? EP=<slug>
	$(PIPELINE) check $(E)

youtube-login: | $(SETUP) ## Sign in to YouTube once (ARGS=--paste on a headless box)
	$(PIPELINE) youtube-login $(ARGS)

feed: public/feed.xml ## Build public/: the podcast feed of every built episode

serve: public/feed.xml ## Preview public/ on localhost with byte ranges
	$(PIPELINE) serve

publish: public/feed.xml ## Copy public/ to the destination: audio first, the feed last
	$(PIPELINE) publish

lexicon: $(B)/qa.json | $(SETUP) ## Propose lexicon entries for misheard words (ARGS=--write): EP=<slug>
	$(PIPELINE) lexicon suggest $(E) $(ARGS)

artwork: | $(SETUP) ## Draw assets/artwork.png from the show title (ARGS=--size 3000)
	$(PIPELINE) artwork $(ARGS)

doctor: | $(SETUP) ## What this machine has and lacks, with the fix for each
	$(PIPELINE) doctor

bench: | $(SETUP) ## Run bench/ and print one table of ratios
	$(PYTHON) bench/run.py $(ARGS)

clean: ## Remove an episode's build outputs, keeping the YouTube record: EP=<slug>
	@if [ -L '$(B)' ]; then echo "$(B) is a link: clean leaves it and what it points to" >&2; \
	  exit 1; fi
	@if [ -d '$(B)' ]; then find '$(B)' -xdev -mindepth 1 ! -name youtube.json -delete; fi

# The stage rules. Each pattern rule makes all its targets in one run. Second expansion
# starts here, after the rules that name $(EP): it would run a $(shell ...) held in EP.
.SECONDEXPANSION:
episodes/%/build/script.json: episodes/%/issue.md $(SHOW) $(LEXICON) \
    $$(wildcard episodes/$$*/recordings episodes/$$*/recordings/*) | $(SETUP)
	$(PIPELINE) script episodes/$*

episodes/%/build/narration.wav episodes/%/build/timeline.json: episodes/%/build/script.json \
    $(SHOW) $$(wildcard episodes/$$*/recordings episodes/$$*/recordings/*)
	$(PIPELINE) narrate episodes/$*

episodes/%/build/episode.mp3 episodes/%/build/episode.m4a episodes/%/build/chapters.json: \
    episodes/%/build/narration.wav episodes/%/build/timeline.json $(SHOW) \
    $$(wildcard assets/artwork.png assets/intro.* assets/outro.*)
	$(PIPELINE) master episodes/$*

episodes/%/build/captions.vtt episodes/%/build/captions.srt episodes/%/build/qa.json \
episodes/%/build/transcript.json: episodes/%/build/narration.wav episodes/%/build/timeline.json \
    episodes/%/build/script.json
	$(PIPELINE) captions episodes/$*

episodes/%/build/slides.json episodes/%/build/thumbnail.jpg: episodes/%/build/script.json \
    episodes/%/build/timeline.json $(SHOW) assets/templates/slides.toml assets/artwork.png
	$(PIPELINE) slides episodes/$*

episodes/%/build/video.mp4 episodes/%/build/youtube-title.txt \
episodes/%/build/youtube-description.txt: episodes/%/build/captions.vtt \
    episodes/%/build/episode.m4a episodes/%/build/slides.json $(SHOW) \
    assets/templates/youtube-title.txt.j2 assets/templates/youtube-description.txt.j2
	$(PIPELINE) video episodes/$*

episodes/%/build/review.html: episodes/%/build/video.mp4 episodes/%/build/qa.json \
    episodes/%/build/chapters.json assets/templates/review.html.j2 \
    $$(wildcard episodes/published.toml)
	$(PIPELINE) review episodes/$*

FEED_INPUTS := $(wildcard $(foreach e,$(EPISODES),$e/issue.md $(addprefix $e/build/,\
    episode.mp3 chapters.json captions.vtt captions.srt)) assets/templates/feed.xml.j2 \
    assets/artwork.*)

public/feed.xml: $(FEED_INPUTS) $(SHOW) $(wildcard episodes/published.toml) | $(SETUP)
	$(PIPELINE) feed
