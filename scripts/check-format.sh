#!/usr/bin/env bash
# Checks that every tracked C++ file under lib/, apps/ and tests/ is formatted as
# .clang-format says (clang-format 14, the version Debian 12 ships; other versions
# can format differently). Prints the files that need `clang-format -i` and exits 1
# if there are any, 0 (printing nothing) otherwise.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CLANG_FORMAT="${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}"
if [ -z "$CLANG_FORMAT" ]; then
  echo "check-format: clang-format not found (apt-get install clang-format)" >&2
  exit 2
fi
unformatted=()
checked=0
while IFS= read -r -d '' file; do
  checked=$((checked + 1))
  if ! "$CLANG_FORMAT" --dry-run --Werror "$file" >/dev/null 2>&1; then
    unformatted+=("$file")
  fi
done < <(git ls-files -z -- 'lib/*.cpp' 'lib/*.hpp' 'apps/*.cpp' 'apps/*.hpp' 'tests/*.cpp' \
  'tests/*.hpp')
if [ "$checked" -eq 0 ]; then
  # An empty list (no git checkout) must not pass as "all formatted".
  echo "check-format: no C++ files found through git ls-files" >&2
  exit 2
fi
if [ "${#unformatted[@]}" -gt 0 ]; then
  echo "check-format: ${#unformatted[@]} file(s) need formatting ($CLANG_FORMAT -i FILE):"
  printf '  %s\n' "${unformatted[@]}"
  exit 1
fi
