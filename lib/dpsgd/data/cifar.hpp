#pragma once
// CIFAR-10 and CIFAR-100 from their binary distribution
// (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version (suitable for C
// programs)"); the files are never downloaded at run time:
//   CIFAR-10:  data_batch_1.bin .. data_batch_5.bin (train), test_batch.bin (test)
//   CIFAR-100: train.bin (train), test.bin (test)
// under the dataset root, or under <root>/cifar-10-batches-bin/ resp.
// <root>/cifar-100-binary/, which is how the official tarballs unpack.
#include <cstdint>
#include <filesystem>
#include <string>

#include "dpsgd/data/formats/cifar_binary.hpp"
#include "dpsgd/data/mnist_like.hpp"
#include "dpsgd/data/tensor_dataset.hpp"

namespace dpsgd::data {

/// Where the files are looked for when data.root is empty (relative to the
/// working directory).
inline const std::filesystem::path kDefaultCifar10Root = "datasets/cifar10";
inline const std::filesystem::path kDefaultCifar100Root = "datasets/cifar100";

/// Loads one split: images as float32 N x 3 x 32 x 32, x / 255 then normalised
/// per channel with the variant's public mean and std; labels as int64 N
/// (CIFAR-100: the fine labels). Throws util::UserError naming every path tried
/// when a file is missing (with where to get the files), and as
/// read_cifar_binary for malformed files or labels outside [0, num_classes).
TensorDataset load_cifar(const std::filesystem::path& root, CifarVariant variant, Split split,
                         const std::string& dataset_name, std::int64_t num_classes = 0);

}  // namespace dpsgd::data
