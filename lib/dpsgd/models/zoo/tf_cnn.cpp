#include "dpsgd/models/zoo/tf_cnn.hpp"

namespace dpsgd::models {

TfCnn::TfCnn(Activation activation, std::int64_t in_channels, std::int64_t num_classes)
    : activation_(activation) {
  Conv2dOptions c1;
  c1.in_channels = in_channels;
  c1.out_channels = 16;
  c1.kernel = {8, 8};
  c1.stride = {2, 2};
  c1.padding = {3, 3};
  Conv2dOptions c2;
  c2.in_channels = 16;
  c2.out_channels = 32;
  c2.kernel = {4, 4};
  c2.stride = {2, 2};
  conv1_ = register_module("conv1", Conv2d(c1));
  conv2_ = register_module("conv2", Conv2d(c2));
  fc1_ = register_module("fc1", Linear(32 * 4 * 4, 32));
  fc2_ = register_module("fc2", Linear(32, num_classes));
}

torch::Tensor TfCnn::act(const torch::Tensor& x) const {
  return activation_ == Activation::kTanh ? torch::tanh(x) : torch::relu(x);
}

torch::Tensor TfCnn::penultimate(const torch::Tensor& input) {
  auto x = torch::max_pool2d(act(conv1_->forward(input)), {2, 2}, {1, 1});  // 28 -> 14 -> 13
  x = torch::max_pool2d(act(conv2_->forward(x)), {2, 2}, {1, 1});           // 13 -> 5 -> 4
  return act(fc1_->forward(x.flatten(1)));
}

torch::Tensor TfCnn::forward(const torch::Tensor& input) {
  return fc2_->forward(penultimate(input));
}

}  // namespace dpsgd::models
