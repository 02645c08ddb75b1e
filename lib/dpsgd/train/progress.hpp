#pragma once
// Progress reporting: a single rewritten line on a terminal, plain log lines
// (at most every few seconds) when stdout is a file or pipe, as in CI.
#include <cstdint>
#include <string>

namespace dpsgd::train {

struct ProgressState {
  std::int64_t step = 0;
  std::int64_t total_steps = 0;
  std::int64_t epoch = 0;
  double loss = 0.0;
  double epsilon = 0.0;
  bool private_run = true;
  double steps_per_s = 0.0;
};

class Progress {
 public:
  Progress(std::string run_id, double log_every_s);
  void update(const ProgressState& state);
  void finish();

 private:
  std::string run_id_;
  bool terminal_;
  double log_every_s_;
  double last_ = -1e300;
  bool dirty_ = false;
};

}  // namespace dpsgd::train
