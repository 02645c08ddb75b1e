#include "dpsgd/models/zoo/filter_bank_head.hpp"

#include <stdexcept>
#include <string>

#include "dpsgd/models/zoo/conv_block.hpp"
#include "dpsgd/models/zoo/filter_bank.hpp"

namespace dpsgd::models {

FilterBankHead::FilterBankHead(const ModelOptions& options) : scales_(options.scales) {
  if (scales_.empty()) {
    throw std::invalid_argument("filter_bank_head: model.scales is empty: give at least one");
  }
  for (const double s : scales_) {
    if (!(s > 0.0)) {
      throw std::invalid_argument("filter_bank_head: model.scales " + std::to_string(s) +
                                  " is invalid: every scale must be > 0");
    }
  }
  std::int64_t in = filter_bank_channels(options.in_channels, scales_.size());
  for (std::size_t i = 0; i < options.hidden.size(); ++i) {
    const std::int64_t width = options.hidden[i];
    if (width < 1) {
      throw std::invalid_argument("filter_bank_head: model.hidden[" + std::to_string(i) + "] " +
                                  std::to_string(width) + " is invalid: it must be >= 1");
    }
    hidden_.push_back(
        register_module("hidden" + std::to_string(i + 1), Conv2d(conv1x1(in, width))));
    in = width;
  }
  head_ = register_module("head", Conv2d(conv1x1(in, options.num_classes)));
}

torch::Tensor FilterBankHead::forward(const torch::Tensor& input) {
  auto x = filter_bank_features(input, scales_);
  for (auto& layer : hidden_) x = torch::relu(layer->forward(x));
  return head_->forward(x);
}

}  // namespace dpsgd::models
