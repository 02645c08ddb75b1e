#include "dpsgd/data/label_check.hpp"

#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::data {

void check_labels(const torch::Tensor& labels, std::int64_t num_classes, const std::string& file,
                  const std::string& fix) {
  if (num_classes <= 0 || !labels.defined() || labels.numel() == 0) return;
  const auto flat = labels.reshape({-1}).to(torch::kLong);
  const auto bad = ((flat < 0) | (flat >= num_classes)).nonzero();
  if (bad.numel() == 0) return;
  const std::int64_t first = bad[0][0].item<std::int64_t>();
  const std::int64_t value = flat[first].item<std::int64_t>();
  // Where, as an index into the stored shape (example, or channel/row/column).
  std::string at;
  std::int64_t rest = first;
  for (std::int64_t d = labels.dim() - 1; d >= 0; --d) {
    at = std::to_string(rest % labels.size(d)) + (at.empty() ? "" : ", ") + at;
    rest /= labels.size(d);
  }
  throw util::UserError(util::cat(file, ": label ", value, " at [", at, "] (", bad.size(0),
                                  " labels in all) is outside the classes 0..", num_classes - 1,
                                  " (model.num_classes = ", num_classes, "): ", fix));
}

}  // namespace dpsgd::data
