#pragma once
// Loader for datasets distributed in MNIST's four-file IDX layout (MNIST,
// Fashion-MNIST, KMNIST): under one directory,
//   train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
//   t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]
#include <cstdint>
#include <filesystem>
#include <string>

#include "dpsgd/data/tensor_dataset.hpp"

namespace dpsgd::data {

enum class Split { kTrain, kTest };

/// Where Debian's dataset-fashion-mnist package installs the files; a missing
/// file under this root gets an install hint in the error message.
inline const std::filesystem::path kDefaultFashionMnistRoot = "/usr/share/datasets/fashion-mnist";

/// Loads one split: images as float32 N x 1 x 28 x 28 scaled to [0, 1] (x / 255),
/// labels as int64 N. Each file is looked for as "<name>.gz" first, then "<name>".
/// Throws util::UserError when a file is missing (naming the paths tried), when
/// a file is not valid IDX, when the images are not N x 28 x 28, or when the
/// image and label counts differ, and (num_classes > 0) when a label lies
/// outside [0, num_classes), naming the label file and the label.
TensorDataset load_mnist_like(const std::filesystem::path& root, Split split,
                              const std::string& dataset_name, std::int64_t num_classes = 0);

}  // namespace dpsgd::data
