#!/usr/bin/env bash
# The original training recipe: SALICON from VGG16, then fine-tuning of each other dataset from
# the best SALICON checkpoint, each at its own input size.
#   scripts/train_all.sh                      salicon, then all six others
#   scripts/train_all.sh mit1003 osie         salicon (if not trained yet), then these
#   scripts/train_all.sh osie -- --epochs 3   arguments after -- go to every `msinet train`
# Missing datasets are downloaded first. Stops at the first failure; run it again to resume:
# finished datasets are skipped by msinet itself (their epochs are done) and an interrupted one
# continues from its latest checkpoint.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
all=(mit1003 cat2000 dutomron pascals osie fiwi)
datasets=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; extra=("$@"); break ;;
    salicon) shift ;;
    mit1003|cat2000|dutomron|pascals|osie|fiwi) datasets+=("$1"); shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "train_all: unknown dataset '$1' (known: salicon ${all[*]})" >&2; exit 2 ;;
  esac
done
[ ${#datasets[@]} -gt 0 ] || datasets=("${all[@]}")

"$root/scripts/setup.sh"
msinet="$root/${MSINET_BUILD_DIR:-build}/msinet"
plan=(salicon "${datasets[@]}")
echo "train_all: will train ${plan[*]} (salicon from VGG16, the others from the best salicon checkpoint)" >&2
[ ${#extra[@]} -eq 0 ] || echo "train_all: extra arguments: ${extra[*]}" >&2
step=0
for d in "${plan[@]}"; do
  step=$((step + 1))
  echo "train_all: [$step/${#plan[@]}] msinet train -d $d ${extra[*]:-}" >&2
  "$msinet" train -d "$d" "${extra[@]}"
done
echo "train_all: done: ${plan[*]}" >&2
