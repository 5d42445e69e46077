#!/bin/sh
# Writes msinet's man page with help2man: NAME, SYNOPSIS and OPTIONS from `msinet --help`, and a
# COMMANDS section with the `--help` of every subcommand that `msinet --help` lists.
#   scripts/man_page.sh BINARY OUTPUT
set -eu
binary=$1
output=$2
include=$(mktemp)
trap 'rm -f "$include"' EXIT
subcommands=$("$binary" --help |
  awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
if [ -z "$subcommands" ]; then
  echo "man_page.sh: '$binary --help' lists no subcommands" >&2
  exit 1
fi
{
  echo "[COMMANDS]"
  for sub in $subcommands; do
    echo ".SS \"msinet $sub\""
    echo ".nf"
    # roff: a backslash is \e, a minus sign \-; \& keeps a line that starts with . or ' as text.
    "$binary" "$sub" --help | sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e 's/^/\\\&/'
    echo ".fi"
  done
} > "$include"
help2man --no-info --name "MSI-Net saliency prediction" --include "$include" \
  --output "$output.tmp" "$binary"
mv "$output.tmp" "$output"
