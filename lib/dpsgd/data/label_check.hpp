#pragma once
// Labels are checked against the configured classes when a data set is read,
// on the labels as stored (before any resize, which can drop the pixels of a
// small region and hide a wrong label), so a label outside the classes is a
// util::UserError naming the file and the value before any run starts, and
// never a silent loss or a failure deep inside training.
#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace dpsgd::data {

/// Throws util::UserError when an element of `labels` (any integer tensor) lies
/// outside [0, num_classes): the message names `file`, the value and where it
/// is, and ends with `fix`. num_classes <= 0 means the classes are not known
/// here: nothing is checked.
void check_labels(const torch::Tensor& labels, std::int64_t num_classes, const std::string& file,
                  const std::string& fix);

}  // namespace dpsgd::data
