# Writes build_info.hpp with the source commit, so summary.json names the code
# that produced it. Run at every build (script mode, see CMakeLists.txt); the
# header is only rewritten when the commit changes, so nothing else recompiles.
execute_process(
  COMMAND git -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
  OUTPUT_VARIABLE DPSGD_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(
  COMMAND git -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
  OUTPUT_VARIABLE DPSGD_GIT_DIRTY OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT DPSGD_GIT_COMMIT)
  set(DPSGD_GIT_COMMIT "unknown")
elseif(DPSGD_GIT_DIRTY)
  set(DPSGD_GIT_COMMIT "${DPSGD_GIT_COMMIT}-dirty")
endif()
configure_file("${SOURCE_DIR}/lib/dpsgd/util/build_info.hpp.in" "${OUTPUT}.tmp" @ONLY)
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
