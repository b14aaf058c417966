# shellcheck shell=bash
# Sourced by the other scripts: makes libtorch (torch==2.11.0) available for building
# and running imdb-rnn, installing it once into a shared per-user virtualenv.
#
# Choose what to use, first match wins:
#   LIBTORCH=/path/to/libtorch         a libtorch you already have (tch's own variable)
#   IMDB_RNN_TORCH_PYTHON=/path/python  a python whose `import torch` is 2.11.0
#   otherwise: the virtualenv IMDB_RNN_TORCH_VENV
#              (default ${XDG_CACHE_HOME:-~/.cache}/imdb-rnn/torch-2.11.0),
#              created with `pip install torch==2.11.0` when missing. Every checkout
#              of the project shares it, so the 4.6 GB wheel is fetched once.
set -euo pipefail

IMDB_RNN_TORCH_VERSION=2.11.0

imdb_rnn_die() { echo "imdb-rnn setup: $*" >&2; exit 1; }

imdb_rnn_torch_ok() { # $1 = python; true when it imports the pinned torch
    "$1" -c "import torch,sys; sys.exit(0 if torch.__version__.split('+')[0]=='$IMDB_RNN_TORCH_VERSION' else 1)" 2>/dev/null
}

if [ -n "${LIBTORCH:-}" ]; then
    [ -d "$LIBTORCH/lib" ] || imdb_rnn_die "LIBTORCH=$LIBTORCH has no lib/ directory; point it at an unpacked libtorch or unset it"
    unset LIBTORCH_USE_PYTORCH
elif [ -n "${IMDB_RNN_TORCH_PYTHON:-}" ]; then
    imdb_rnn_torch_ok "$IMDB_RNN_TORCH_PYTHON" \
        || imdb_rnn_die "IMDB_RNN_TORCH_PYTHON=$IMDB_RNN_TORCH_PYTHON does not import torch $IMDB_RNN_TORCH_VERSION; install it there or unset the variable"
    PATH="$(dirname "$IMDB_RNN_TORCH_PYTHON"):$PATH"
    export LIBTORCH_USE_PYTORCH=1
else
    venv="${IMDB_RNN_TORCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/imdb-rnn/torch-$IMDB_RNN_TORCH_VERSION}"
    if ! [ -f "$venv/.imdb-rnn-complete" ] || ! imdb_rnn_torch_ok "$venv/bin/python"; then
        command -v python3 >/dev/null || imdb_rnn_die "python3 not found; install Python 3.10+ with venv and pip"
        mkdir -p "$(dirname "$venv")"
        # One installer at a time: parallel checkouts (or a sweep) wait here instead of
        # downloading the same 4.6 GB twice.
        exec 9>"$venv.lock"
        if command -v flock >/dev/null; then flock 9; fi
        if ! [ -f "$venv/.imdb-rnn-complete" ] || ! imdb_rnn_torch_ok "$venv/bin/python"; then
            echo "imdb-rnn setup: installing torch==$IMDB_RNN_TORCH_VERSION into $venv" >&2
            echo "imdb-rnn setup: the wheel bundles CUDA 13 libraries (about 4.6 GB installed); this happens once" >&2
            rm -f "$venv/.imdb-rnn-complete"
            [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || imdb_rnn_die "could not create a virtualenv at $venv (apt-get install python3-venv?)"
            "$venv/bin/python" -m pip install --quiet "torch==$IMDB_RNN_TORCH_VERSION" \
                || imdb_rnn_die "pip install torch==$IMDB_RNN_TORCH_VERSION failed in $venv"
            imdb_rnn_torch_ok "$venv/bin/python" || imdb_rnn_die "torch in $venv does not import"
            touch "$venv/.imdb-rnn-complete"
        fi
        exec 9>&-
    fi
    PATH="$venv/bin:$PATH"
    export LIBTORCH_USE_PYTORCH=1
fi
export PATH
# Keep the machine responsive on small boxes: cargo's default uses every core.
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"
