#include "dpsgd/privacy/clipping/random_sparsification.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "dpsgd/privacy/clipping/layer_thresholds.hpp"
#include "dpsgd/util/random_source.hpp"
#include "dpsgd/util/seeds.hpp"

namespace dpsgd::privacy {

std::int64_t SparsificationSchedule::period(std::int64_t step) const {
  const std::int64_t epoch = step / steps_per_epoch;
  const std::int64_t within = step % steps_per_epoch;
  const std::int64_t length = std::max<std::int64_t>(1, steps_per_epoch / refresh);
  // When steps_per_epoch is not a multiple of refresh, the leftover steps
  // belong to the epoch's last period.
  const std::int64_t k = std::min(within / length, refresh - 1);
  return epoch * refresh + k;
}

double SparsificationSchedule::rate(std::int64_t p) const {
  const std::int64_t last = refresh * epochs - 1;
  if (last <= 0) return final_rate;  // a single period: the final rate throughout
  const double r = final_rate * static_cast<double>(p) / static_cast<double>(last);
  return std::clamp(r, 0.0, final_rate);
}

RandomSparsificationClipper::RandomSparsificationClipper(std::unique_ptr<Clipper> base,
                                                         SparsificationSchedule schedule,
                                                         const std::vector<torch::Tensor>& params,
                                                         std::uint64_t seed, bool secure)
    : base_(std::move(base)), schedule_(schedule), seed_(seed), secure_(secure) {
  if (!(schedule_.final_rate >= 0.0 && schedule_.final_rate < 1.0)) {
    throw std::invalid_argument("random sparsification: final_rate must be in [0, 1)");
  }
  if (schedule_.refresh < 1 || schedule_.steps_per_epoch < 1 || schedule_.epochs < 1) {
    throw std::invalid_argument("random sparsification: refresh, steps and epochs must be >= 1");
  }
  for (const auto& p : params) params_.push_back(p.detach());
  begin_step(0);
}

void RandomSparsificationClipper::begin_step(std::int64_t step) {
  const std::int64_t p = schedule_.period(step);
  if (p == period_) return;
  period_ = p;
  rate_ = schedule_.rate(p);
  redraw(rate_);
}

void RandomSparsificationClipper::redraw(double rate) {
  torch::NoGradGuard no_grad;
  std::int64_t total = 0;
  for (const auto& p : params_) total += p.numel();
  const auto dropped = static_cast<std::int64_t>(std::floor(rate * static_cast<double>(total)));
  auto flat = torch::ones({total}, torch::kFloat32);
  if (dropped > 0) {
    // A seeded mask of a period depends only on (seed, period), not on the
    // draws before it, so a resumed run redraws the same masks.
    auto source = secure_ ? util::RandomSource::secure()
                          : util::RandomSource::seeded(
                                util::substream_seed(seed_, static_cast<std::uint64_t>(period_)));
    const auto perm = source.randperm(total);
    flat.index_fill_(0, perm.narrow(0, 0, dropped), 0.0);
  }
  set_masks(flat);
}

void RandomSparsificationClipper::set_masks(const torch::Tensor& flat) {
  masks_.clear();
  std::int64_t offset = 0;
  for (const auto& p : params_) {
    masks_.push_back(flat.narrow(0, offset, p.numel()).view(p.sizes()).to(p.options()));
    offset += p.numel();
  }
}

util::StateMap RandomSparsificationClipper::state() const {
  util::StateMap out;
  out.values["period"] = period_;
  std::vector<torch::Tensor> flat;
  for (const auto& m : masks_) flat.push_back(m.detach().flatten().cpu() != 0);
  out.tensors["kept"] = torch::cat(flat);
  return out;
}

void RandomSparsificationClipper::load_state(const util::StateMap& state) {
  const auto& kept = state.tensor("kept");
  std::int64_t total = 0;
  for (const auto& p : params_) total += p.numel();
  if (kept.numel() != total) {
    throw std::runtime_error("the saved sparsification mask does not fit this model");
  }
  period_ = state.value("period").get<std::int64_t>();
  rate_ = schedule_.rate(period_);
  set_masks(kept.to(torch::kFloat32));
}

std::vector<std::pair<std::string, double>> RandomSparsificationClipper::log_values() const {
  return {{"sparsification_rate", rate_}};
}

ClippingMode random_sparsification_clipping_mode() {
  return {{"max_grad_norm", "per_layer", "layer_max_grad_norms", "final_rate", "refresh"},
          [](util::OptionReader& reader) {
            ClippingSpec spec;
            const double c = read_max_grad_norm(reader);
            const auto layers = read_layer_thresholds(reader, /*always_per_layer=*/false);
            double final_rate = 0.9;
            std::int64_t refresh = 1;
            reader.read_double(
                "final_rate", final_rate, [](double v) { return v >= 0 && v < 1; },
                "a number in [0, 1)");
            reader.read_int("refresh", refresh, 1, "an integer >= 1 (mask redraws per epoch)");
            spec.max_grad_norm = c;
            spec.needs = {/*coordinate_masks=*/true, /*per_example_count=*/false};
            spec.echo = {{"max_grad_norm", c}, {"final_rate", final_rate}, {"refresh", refresh}};
            echo_layer_thresholds(layers, /*per_layer_is_key=*/true, spec.echo);
            spec.make = [=](const PrivateModel& model,
                            const ClippingRunFacts& run) -> std::shared_ptr<Clipper> {
              SparsificationSchedule schedule{final_rate, refresh, run.steps_per_epoch, run.epochs};
              return std::make_shared<RandomSparsificationClipper>(
                  make_norm_clipper(c, layers, model), schedule, model.params,
                  util::stream_seed(run.run_seed, util::SeedStream::kClipper), run.secure_rng);
            };
            return spec;
          }};
}

}  // namespace dpsgd::privacy
