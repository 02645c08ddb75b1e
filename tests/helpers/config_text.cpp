#include "tests/helpers/config_text.hpp"

#include "dpsgd/util/error.hpp"

namespace dpsgd::test {

const char* const kMinimalConfig = R"(name: t
data: {name: fashion_mnist}
model: {name: tanh_cnn}
train:
  epochs: 2
  batch_size: 64
  optimizer: {name: sgd, lr: 0.5, momentum: 0.9}
privacy:
  clipping: {mode: flat, max_grad_norm: 1.0}
  noise_multiplier: 1.1
  delta: 1.0e-5
)";

std::string user_error_of(const std::function<void()>& parse) {
  try {
    parse();
  } catch (const util::UserError& e) {
    return e.what();
  }
  return "";
}

}  // namespace dpsgd::test
