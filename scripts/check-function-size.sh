#!/usr/bin/env bash
# Lists every function in lib/ whose body is longer than 80 lines, as
# "file:line name length", and exits 1 if there is one, 0 (printing nothing) if not.
#
# Two checkers, which count a length the same way (line of the closing brace minus
# line of the opening brace; lambdas belong to the function that contains them):
#  * default: scripts/check-function-size.py, a lexical scan of the sources
#    (about a second for all of lib/; needs only python3);
#  * --clang-tidy [FILE.cpp...]: the authoritative clang-tidy readability-function-size check with
#    LineThreshold 80 (as in .clang-tidy), on every lib/ .cpp with build/
#    compile_commands.json (run scripts/build.sh first). It parses each translation
#    unit with the LibTorch headers: about 17 s of CPU and 1.3 GB a file, 22 CPU
#    minutes for the 77 files of lib/ (16 minutes on 2 busy cores); too slow for CI,
#    so it is the check to run by hand when the two might disagree (a macro that opens
#    a function, say). On lib/ at the time of writing both list the same functions.
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
# The build force-includes a GCC precompiled header (cmake_pch.hxx), which clang cannot
# read; a copy of the compile database includes what it holds, <torch/torch.h>, instead.
DB="$(mktemp -d)"
trap 'rm -rf "$DB"' EXIT
python3 - "$BUILD/compile_commands.json" "$DB/compile_commands.json" <<'PY'
import json, re, sys
entries = json.load(open(sys.argv[1]))
for e in entries:
    e["command"] = re.sub(r"-include \S*cmake_pch\.hxx", "-include torch/torch.h", e["command"])
    e["command"] = e["command"].replace(" -Winvalid-pch", "")
json.dump(entries, open(sys.argv[2], "w"))
PY
shift
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(git ls-files -- 'lib/*.cpp'); fi
config="{Checks: '-*,readability-function-size', HeaderFilterRegex: 'lib/dpsgd/.*', \
CheckOptions: [{key: readability-function-size.LineThreshold, value: $LIMIT}]}"
# clang-tidy's warning: "file:line:col: warning: function 'name' exceeds recommended
# size/complexity thresholds"; the next note gives "N lines including whitespace and
# comments (threshold 80)". A header's function, reported by every includer, is listed once.
report="$(printf '%s\0' "${files[@]}" |
  xargs -0 -P "$(nproc)" -n 1 "$CLANG_TIDY" -p "$DB" --quiet --config="$config" 2>/dev/null |
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
