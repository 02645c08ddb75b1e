#include "dpsgd/models/objectives/objective.hpp"

#include <cmath>

namespace dpsgd::models {
namespace {

class MeanScoreAccumulator final : public EvalAccumulator {
 public:
  explicit MeanScoreAccumulator(const Objective& objective) : objective_(objective) {}

  void add(const torch::Tensor& output, const torch::Tensor& target) override {
    loss_sum_ += objective_.per_example_loss(output, target).sum().item<double>();
    score_sum_ += objective_.per_example_score(output, target).sum().item<double>();
    examples_ += output.size(0);
  }

  [[nodiscard]] std::map<std::string, double> scalars() const override {
    const double n = static_cast<double>(examples_);
    return {{"loss", examples_ > 0 ? loss_sum_ / n : NAN},
            {objective_.score_name(), examples_ > 0 ? score_sum_ / n : NAN}};
  }

 private:
  const Objective& objective_;
  double loss_sum_ = 0.0;
  double score_sum_ = 0.0;
  std::int64_t examples_ = 0;
};

}  // namespace

std::unique_ptr<EvalAccumulator> Objective::make_accumulator() const {
  return std::make_unique<MeanScoreAccumulator>(*this);
}

torch::Tensor mean_per_example(const torch::Tensor& t) {
  return t.dim() <= 1 ? t : t.flatten(1).mean(1);
}

torch::Tensor CrossEntropyObjective::per_example_loss(const torch::Tensor& output,
                                                      const torch::Tensor& target) const {
  const auto nll = -torch::log_softmax(output, 1).gather(1, target.unsqueeze(1)).squeeze(1);
  return mean_per_example(nll);
}

torch::Tensor CrossEntropyObjective::per_example_score(const torch::Tensor& output,
                                                       const torch::Tensor& target) const {
  return mean_per_example(output.argmax(1).eq(target).to(output.scalar_type()));
}

}  // namespace dpsgd::models
