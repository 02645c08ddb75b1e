#include "dpsgd/train/progress.hpp"

#include <chrono>
#include <cstdio>

#include "dpsgd/util/logging.hpp"
#include <unistd.h>

namespace dpsgd::train {
namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress(std::string run_id, double log_every_s)
    : run_id_(std::move(run_id)),
      terminal_(::isatty(STDOUT_FILENO) == 1),
      log_every_s_(log_every_s) {}

void Progress::update(const ProgressState& s) {
  const double t = now_s();
  const bool last = s.step == s.total_steps;
  if (terminal_) {
    if (t - last_ < 0.1 && !last) return;
    last_ = t;
    std::printf("\r%s step %lld/%lld epoch %lld loss %.4f %s %.1f steps/s   ", run_id_.c_str(),
                static_cast<long long>(s.step), static_cast<long long>(s.total_steps),
                static_cast<long long>(s.epoch), s.loss,
                s.private_run ? util::cat("eps ", s.epsilon).c_str() : "non-private",
                s.steps_per_s);
    std::fflush(stdout);
    dirty_ = true;
    return;
  }
  if (t - last_ < log_every_s_ && !last) return;
  last_ = t;
  std::printf("%s step %lld/%lld epoch %lld loss %.4f %s %.2f steps/s\n", run_id_.c_str(),
              static_cast<long long>(s.step), static_cast<long long>(s.total_steps),
              static_cast<long long>(s.epoch), s.loss,
              s.private_run ? util::cat("epsilon ", s.epsilon).c_str() : "non-private",
              s.steps_per_s);
  std::fflush(stdout);
}

void Progress::finish() {
  if (terminal_ && dirty_) {
    std::printf("\n");
    std::fflush(stdout);
  }
}

}  // namespace dpsgd::train
