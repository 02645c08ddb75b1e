#include "dpsgd/models/objectives/cross_entropy_dice_objective.hpp"

#include <cmath>
#include <numeric>
#include <stdexcept>

#include "dpsgd/models/objectives/dice.hpp"

namespace dpsgd::models {
namespace {

class SegmentationAccumulator final : public EvalAccumulator {
 public:
  SegmentationAccumulator(const CrossEntropyDiceObjective& objective,
                          std::vector<std::int64_t> all_classes)
      : objective_(objective),
        all_classes_(std::move(all_classes)),
        class_sum_(objective.options().num_classes, 0.0),
        class_count_(objective.options().num_classes, 0) {}

  void add(const torch::Tensor& output, const torch::Tensor& target) override {
    const auto& o = objective_.options();
    loss_sum_ += objective_.per_example_loss(output, target).sum().item<double>();
    const auto confusion = confusion_matrices(output.argmax(1), target, o.num_classes);
    const auto per_class = dice_per_class(confusion).cpu();
    dice_sum_ += mean_dice(per_class, o.score_classes).sum().item<double>();
    dice_all_sum_ += mean_dice(per_class, all_classes_).sum().item<double>();
    const auto defined = per_class.isfinite();
    const auto sums = torch::where(defined, per_class, torch::zeros_like(per_class)).sum(0);
    const auto counts = defined.sum(0);
    for (std::int64_t k = 0; k < o.num_classes; ++k) {
      class_sum_[k] += sums[k].item<double>();
      class_count_[k] += counts[k].item<std::int64_t>();
    }
    correct_ += confusion.diagonal(0, 1, 2).sum().item<std::int64_t>();
    pixels_ += target.numel();
    examples_ += output.size(0);
  }

  [[nodiscard]] std::map<std::string, double> scalars() const override {
    const double n = static_cast<double>(examples_);
    if (examples_ == 0) return {{"loss", NAN}, {"dice", NAN}, {"dice_all", NAN}};
    return {{"loss", loss_sum_ / n},
            {"dice", dice_sum_ / n},
            {"dice_all", dice_all_sum_ / n},
            {"pixel_accuracy", static_cast<double>(correct_) / static_cast<double>(pixels_)}};
  }

  [[nodiscard]] std::map<std::string, std::vector<double>> vectors() const override {
    std::vector<double> per_class(class_sum_.size(), NAN);
    for (std::size_t k = 0; k < per_class.size(); ++k) {
      if (class_count_[k] > 0) per_class[k] = class_sum_[k] / static_cast<double>(class_count_[k]);
    }
    return {{"dice_per_class", per_class}};
  }

 private:
  const CrossEntropyDiceObjective& objective_;
  std::vector<std::int64_t> all_classes_;
  std::vector<double> class_sum_;
  std::vector<std::int64_t> class_count_;
  double loss_sum_ = 0.0;
  double dice_sum_ = 0.0;
  double dice_all_sum_ = 0.0;
  std::int64_t correct_ = 0;
  std::int64_t pixels_ = 0;
  std::int64_t examples_ = 0;
};

}  // namespace

CrossEntropyDiceObjective::CrossEntropyDiceObjective(CrossEntropyDiceOptions options)
    : options_(std::move(options)) {
  if (options_.num_classes < 2) throw std::invalid_argument("num_classes must be >= 2");
  all_classes_.resize(options_.num_classes);
  std::iota(all_classes_.begin(), all_classes_.end(), 0);
  if (options_.score_classes.empty()) {
    options_.score_classes.assign(all_classes_.begin() + 1, all_classes_.end());
  }
  for (auto k : options_.score_classes) {
    if (k < 0 || k >= options_.num_classes) {
      throw std::invalid_argument("score class " + std::to_string(k) + " outside [0, " +
                                  std::to_string(options_.num_classes) + ")");
    }
  }
}

torch::Tensor CrossEntropyDiceObjective::per_example_loss(const torch::Tensor& output,
                                                          const torch::Tensor& target) const {
  const auto log_p = torch::log_softmax(output, 1);
  const auto ce = mean_per_example(-log_p.gather(1, target.unsqueeze(1)).squeeze(1));
  if (options_.dice_weight == 0.0) return options_.ce_weight * ce;
  const auto p = log_p.exp();  // softmax, from the same log_softmax
  // One-hot as a comparison straight into p's dtype (no int64 B x H x W x K copy).
  std::vector<std::int64_t> shape(static_cast<std::size_t>(target.dim()) + 1, 1);
  shape[1] = options_.num_classes;  // (1, K, 1, ..., 1), broadcast against (B, 1, H, W, ...)
  const auto classes = torch::arange(options_.num_classes, target.options()).view(shape);
  const auto t = target.unsqueeze(1).eq(classes).to(p.scalar_type());
  const auto inter = (p * t).flatten(2).sum(2);                  // B x K
  const auto denom = p.flatten(2).sum(2) + t.flatten(2).sum(2);  // B x K
  const auto dice = (2.0 * inter + options_.smooth) / (denom + options_.smooth);
  return options_.ce_weight * ce + options_.dice_weight * (1.0 - dice.mean(1));
}

torch::Tensor CrossEntropyDiceObjective::per_example_score(const torch::Tensor& output,
                                                           const torch::Tensor& target) const {
  const auto confusion = confusion_matrices(output.argmax(1), target, options_.num_classes);
  return mean_dice(dice_per_class(confusion), options_.score_classes).to(output.scalar_type());
}

std::unique_ptr<EvalAccumulator> CrossEntropyDiceObjective::make_accumulator() const {
  return std::make_unique<SegmentationAccumulator>(*this, all_classes_);
}

}  // namespace dpsgd::models
