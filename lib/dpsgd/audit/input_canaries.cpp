#include "dpsgd/audit/input_canaries.hpp"

#include <string>

#include <ATen/CPUGeneratorImpl.h>

#include "dpsgd/audit/audit_streams.hpp"
#include "dpsgd/audit/gradient_canaries.hpp"
#include "dpsgd/util/error.hpp"

namespace dpsgd::audit {

InputCanaries make_input_canaries(const data::TensorDataset& train, std::int64_t num_classes,
                                  std::int64_t m, std::uint64_t seed) {
  if (train.targets.dim() != 1) {
    throw util::UserError(
        "audit: input canaries need one class label per example (this data has "
        "per-pixel targets); use --kind gradient");
  }
  if (num_classes < 2 || m < 1 || m >= train.size()) {
    throw util::UserError("audit: --canaries " + std::to_string(m) +
                          " input canaries need at least m + 1 training examples (there are " +
                          std::to_string(train.size()) + ") and two classes");
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(audit_substream(seed, kInputCanarySubstream));
  const auto order = torch::randperm(train.size(), gen, torch::kLong);
  const auto chosen = order.narrow(0, 0, m);
  const auto rest = std::get<0>(order.narrow(0, m, train.size() - m).sort());
  InputCanaries out;
  auto [x, y] = train.gather(chosen);
  // A wrong label: the true one shifted by 1 .. K-1 (mod K), uniformly.
  const auto shift = torch::randint(1, num_classes, {m}, gen, torch::kLong).to(y.device());
  out.canaries =
      data::TensorDataset{x, (y + shift).remainder(num_classes), train.name + "/canaries"};
  out.included = draw_membership(seed, m);
  std::vector<std::int64_t> members;
  for (std::int64_t i = 0; i < m; ++i) {
    if (out.included[static_cast<std::size_t>(i)]) members.push_back(i);
  }
  const auto keep = torch::tensor(members, torch::kLong);
  const auto kept = out.canaries.gather(keep);
  const auto real = train.gather(rest);
  out.reference_train = data::TensorDataset{real.first, real.second, train.name};
  out.train = data::TensorDataset{torch::cat({real.first, kept.first}),
                                  torch::cat({real.second, kept.second}), train.name};
  return out;
}

std::vector<double> input_canary_scores(models::Model& model, const data::TensorDataset& canaries,
                                        std::int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::vector<double> out;
  for (std::int64_t start = 0; start < canaries.size(); start += batch_size) {
    const auto n = std::min(batch_size, canaries.size() - start);
    const auto x = canaries.inputs.narrow(0, start, n);
    const auto y = canaries.targets.narrow(0, start, n);
    const auto log_p = torch::log_softmax(model.forward(x).to(torch::kFloat64), 1);
    const auto picked = log_p.gather(1, y.to(log_p.device()).unsqueeze(1)).squeeze(1).cpu();
    for (std::int64_t i = 0; i < n; ++i) out.push_back(picked[i].item<double>());
  }
  return out;
}

}  // namespace dpsgd::audit
