#pragma once
// Wall-clock timing. On CUDA, callers synchronise before reading a phase time
// (util/phase_clock.hpp); this class only reads the host clock.
#include <chrono>

namespace dpsgd::util {

class Stopwatch {
 public:
  Stopwatch() : start_(Clock::now()) {}
  void reset() { start_ = Clock::now(); }
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
};

}  // namespace dpsgd::util
