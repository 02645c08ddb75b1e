#!/usr/bin/env bash
# Lists every function in lib/ whose body is longer than 80 lines, as
# "file:line name length", and exits 1 if there is one, 0 (printing nothing) if not.
#
# Two checkers, which count a length the same way (line of the closing brace minus
# line of the opening brace; lambdas belong to the function that contains them):
#  * default: scripts/check-function-size.py, a lexical scan of the sources
#    (about a second for all of lib/; needs only python3);
#  * --clang-tidy: the authoritative clang-tidy readability-function-size check with
#    LineThreshold 80 (as in .clang-tidy), on every lib/ .cpp with build/
#    compile_commands.json (run scripts/build.sh first). It parses each translation
#    unit with the LibTorch headers: about TIDY_SECONDS_PER_TU s a file on one core,
#    too slow for CI on 2 cores, so it is for a check by hand.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LIMIT=80

if [ "${1:-}" != "--clang-tidy" ]; then
  mapfile -t files < <(git ls-files -- 'lib/*.cpp' 'lib/*.hpp')
  exec python3 "$ROOT/scripts/check-function-size.py" --limit "$LIMIT" "${files[@]}"
fi

BUILD="${DPSGD_BUILD_DIR:-$ROOT/build}"
CLANG_TIDY="${CLANG_TIDY:-$(command -v clang-tidy-14 || command -v clang-tidy)}"
[ -f "$BUILD/compile_commands.json" ] || { echo "no $BUILD/compile_commands.json" >&2; exit 2; }
mapfile -t files < <(git ls-files -- 'lib/*.cpp')
config="{Checks: '-*,readability-function-size', HeaderFilterRegex: 'lib/dpsgd/.*', \
CheckOptions: [{key: readability-function-size.LineThreshold, value: $LIMIT}]}"
# clang-tidy's warning: "file:line:col: warning: function 'name' exceeds recommended
# size/complexity thresholds"; the next note gives "N lines including whitespace and
# comments (threshold 80)". A header's functions are reported once per includer.
report="$(printf '%s\0' "${files[@]}" |
  xargs -0 -P "$(nproc)" -n 1 "$CLANG_TIDY" -p "$BUILD" --quiet --config="$config" 2>/dev/null |
  awk -v root="$ROOT/" '
    /warning: function .* exceeds recommended size/ {
      split($1, loc, ":"); file = loc[1]; sub(root, "", file); line = loc[2];
      match($0, /function \x27[^\x27]*\x27/); name = substr($0, RSTART + 10, RLENGTH - 11);
    }
    /note: [0-9]+ lines including whitespace/ {
      match($0, /[0-9]+ lines/); n = substr($0, RSTART, RLENGTH - 6);
      if (file != "") { print file ":" line " " name " " n; file = "" }
    }' | sort -u -t: -k1,1 -k2,2n)" || true
[ -z "$report" ] && exit 0
echo "$report"
exit 1
