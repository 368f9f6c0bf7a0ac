#!/usr/bin/env bash
# No function of hcproxy's calls itself, directly or through others in its file: a module that
# finishes another's work calls back from the loop instead (README.md, "Code"), and a parser walks
# nesting with its own bounded stack. clang-tidy's misc-no-recursion finds every cycle in a file's
# call graph; a cycle across files (one module re-entering another) is what the completion queues
# rule out by construction.
# Usage: no_recursion.sh SOURCE_ROOT BUILD_ROOT (with BUILD_ROOT/compile_commands.json).
set -uo pipefail
src=$1 build=$2

tidy=$(command -v clang-tidy || command -v clang-tidy-14 || true)
if [ -z "$tidy" ]; then
    echo "1..0 # SKIP clang-tidy is not installed"
    exit 0
fi
echo "1..1"
# A file clang cannot compile is a failure too: clang-tidy would have checked nothing in it.
out=$("$tidy" -p "$build" --quiet --checks='-*,misc-no-recursion' \
    "$src"/proxy/*.c "$src"/mapping/*.c "$src"/config/*.c 2>&1 |
    grep -E 'warning: .*\[misc-no-recursion\]|error:' | sort -u)
if [ -z "$out" ]; then
    echo "ok 1 - no recursive call chain in proxy/, mapping/, config/"
else
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "not ok 1 - recursive call chains (above)"
fi
