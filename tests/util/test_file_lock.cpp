#include <csignal>

#include <catch2/catch.hpp>

#include "dpsgd/util/file_lock.hpp"
#include "dpsgd/util/stop_signal.hpp"
#include "tests/helpers/run_binary.hpp"

using dpsgd::util::FileLock;

TEST_CASE("a held file lock refuses a second holder until released", "[util][lock]") {
  const auto dir = dpsgd::test::fresh_dir("dpsgd_file_lock");
  const auto path = dir / ".claim";
  {
    auto first = FileLock::acquire(path);
    REQUIRE(first.held());
    // flock locks belong to open file descriptions: a second open conflicts even
    // in the same process, as it would in another one.
    REQUIRE_FALSE(FileLock::try_acquire(path).held());
    auto moved = std::move(first);
    REQUIRE(moved.held());
    REQUIRE_FALSE(FileLock::try_acquire(path).held());
  }
  REQUIRE(FileLock::try_acquire(path).held());
}

TEST_CASE("a stop signal only sets the flag, the exit code is 128 + N", "[util][signal]") {
  dpsgd::util::install_stop_handlers();
  dpsgd::util::clear_stop_request();
  REQUIRE(dpsgd::util::stop_requested() == 0);
  std::raise(SIGTERM);  // handled: the test process goes on
  REQUIRE(dpsgd::util::stop_requested() == SIGTERM);
  REQUIRE(dpsgd::util::exit_code_for_signal(SIGTERM) == 143);
  REQUIRE(dpsgd::util::exit_code_for_signal(SIGINT) == 130);
  dpsgd::util::clear_stop_request();
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGHUP, SIG_DFL);
}
