// DpGradient's checkpoint state (dp_gradient.hpp): kept apart from the step
// itself because it is about resuming, not about the mechanism.
#include <stdexcept>
#include <vector>

#include "dpsgd/privacy/dp_gradient.hpp"

namespace dpsgd::privacy {
namespace {

nlohmann::json history_json(const std::vector<accounting::MechanismSegment>& history) {
  auto out = nlohmann::json::array();
  for (const auto& s : history) {
    out.push_back({{"noise_multiplier", s.noise_multiplier},
                   {"sample_rate", s.sample_rate},
                   {"steps", s.steps}});
  }
  return out;
}

bool same_history(const std::vector<accounting::MechanismSegment>& a,
                  const std::vector<accounting::MechanismSegment>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    // Exact comparison: the replay must give back the very same segments.
    if (a[k].noise_multiplier != b[k].noise_multiplier || a[k].sample_rate != b[k].sample_rate ||
        a[k].steps != b[k].steps) {
      return false;
    }
  }
  return true;
}

}  // namespace

util::StateMap DpGradient::state() const {
  util::StateMap out;
  out.put("noise", noise_.state());
  out.put("assignment", assignment_.state());
  out.put("clipper", clipper_->state());
  out.values["step"] = step_;
  out.values["poisson_checked"] = poisson_checked_;
  out.values["accountant"] = history_json(accountant_->history());
  return out;
}

void DpGradient::load_state(const util::StateMap& state) {
  if (step_ != 0 || !accountant_->history().empty()) {
    throw std::logic_error("DpGradient::load_state needs a fresh private step and accountant");
  }
  std::vector<accounting::MechanismSegment> saved;
  for (const auto& s : state.value("accountant")) {
    accounting::MechanismSegment seg;
    seg.noise_multiplier = s.at("noise_multiplier").get<double>();
    seg.sample_rate = s.at("sample_rate").get<double>();
    seg.steps = s.at("steps").get<std::int64_t>();
    saved.push_back(seg);
  }
  noise_.load_state(state.child("noise"));
  assignment_.load_state(state.child("assignment"));
  clipper_->load_state(state.child("clipper"));
  for (const auto& seg : saved) accountant_->step(seg.noise_multiplier, seg.sample_rate, seg.steps);
  if (!same_history(accountant_->history(), saved)) {
    throw std::runtime_error("the replayed privacy accounting differs from the saved history");
  }
  step_ = state.value("step").get<std::int64_t>();
  poisson_checked_ = poisson_checked_ && state.value("poisson_checked").get<bool>();
}

}  // namespace dpsgd::privacy
