#pragma once
// Per-phase timing of a step ("forward", "backward", "norms", "clip_sum", "noise",
// "optimizer"). The private step and the engines mark phases with PhaseScope; a
// null clock costs nothing, so training passes none and only the bench times
// phases (with device synchronisation: SyncPhaseClock in experiment/bench.cpp).
namespace dpsgd::util {

/// Accumulates time per phase name.
class PhaseClock {
 public:
  virtual ~PhaseClock() = default;
  virtual void begin(const char* phase) = 0;
  virtual void end() = 0;
};

/// Times a phase for as long as it lives; a null clock costs nothing.
class PhaseScope {
 public:
  PhaseScope(PhaseClock* clock, const char* phase) : clock_(clock) {
    if (clock_ != nullptr) clock_->begin(phase);
  }
  ~PhaseScope() {
    if (clock_ != nullptr) clock_->end();
  }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;
  PhaseScope(PhaseScope&&) = delete;
  PhaseScope& operator=(PhaseScope&&) = delete;

 private:
  PhaseClock* clock_;
};

}  // namespace dpsgd::util
