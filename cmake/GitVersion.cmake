# Records the source commit in the binary so summary.json can name it.
execute_process(
  COMMAND git -C "${CMAKE_SOURCE_DIR}" rev-parse --short=12 HEAD
  OUTPUT_VARIABLE DPSGD_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(
  COMMAND git -C "${CMAKE_SOURCE_DIR}" status --porcelain --untracked-files=no
  OUTPUT_VARIABLE DPSGD_GIT_DIRTY OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT DPSGD_GIT_COMMIT)
  set(DPSGD_GIT_COMMIT "unknown")
elseif(DPSGD_GIT_DIRTY)
  set(DPSGD_GIT_COMMIT "${DPSGD_GIT_COMMIT}-dirty")
endif()
configure_file("${CMAKE_SOURCE_DIR}/lib/dpsgd/util/build_info.hpp.in"
               "${CMAKE_BINARY_DIR}/generated/dpsgd/util/build_info.hpp" @ONLY)
