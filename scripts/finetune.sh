#!/usr/bin/env bash
# Fine-tunes MSI-Net on your own dataset described by a YAML file (format in README.md, "Your
# own data"), starting from the best SALICON checkpoint (trained first if missing).
#   scripts/finetune.sh path/to/mydata.yaml [-- extra msinet train arguments]
# Stops at the first failure; run it again to resume where it stopped.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,6p' "$0"; exit 2
fi
yaml="$1"; shift
[ "${1:-}" = "--" ] && shift
if [ ! -f "$yaml" ]; then echo "finetune: no such dataset file '$yaml'" >&2; exit 4; fi
"$root/scripts/setup.sh"
msinet="$root/${MSINET_BUILD_DIR:-build}/msinet"
results=$("$msinet" train -d "$yaml" --print-config "$@" | sed -n 's/^results_dir: \([^ ]*\) .*/\1/p')
if [ ! -f "$results/ckpts/best/salicon.msinet" ]; then
  echo "finetune: no SALICON checkpoint in $results/ckpts/best/: training salicon first" >&2
  "$msinet" train -d salicon "$@"
fi
echo "finetune: msinet train -d $yaml --init salicon $*" >&2
"$msinet" train -d "$yaml" --init salicon "$@"
