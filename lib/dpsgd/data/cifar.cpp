#include "dpsgd/data/cifar.hpp"

#include <array>
#include <vector>

#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::data {
namespace {

using util::cat;
using util::UserError;

struct VariantFiles {
  const char* subfolder;  ///< what the official tarball unpacks to
  const char* tarball;
  std::vector<std::string> train;
  std::vector<std::string> test;
  std::filesystem::path default_root;
};

VariantFiles files_of(CifarVariant variant) {
  if (variant == CifarVariant::kCifar100) {
    return {"cifar-100-binary",
            "cifar-100-binary.tar.gz",
            {"train.bin"},
            {"test.bin"},
            kDefaultCifar100Root};
  }
  return {"cifar-10-batches-bin",
          "cifar-10-binary.tar.gz",
          {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
           "data_batch_5.bin"},
          {"test_batch.bin"},
          kDefaultCifar10Root};
}

// Per-channel (R, G, B) mean and std of all pixels (scaled to [0, 1]) of the
// 50,000 training images of each public release
// (https://www.cs.toronto.edu/~kriz/cifar.html), as quoted unchanged by public
// CIFAR training code. (The also-quoted CIFAR-10 std (0.2023, 0.1994, 0.2010)
// reproduces as a mean of per-image stds, not the pixels' std.) They are
// public constants, fixed before this run reads any data, so normalising with
// them is a fixed function of each example and costs no privacy. A data set
// that is actually private needs constants from public data, never statistics
// of its own training set, which would leak through them.
constexpr std::array<float, 3> kCifar10Mean{0.4914F, 0.4822F, 0.4465F};
constexpr std::array<float, 3> kCifar10Std{0.2470F, 0.2435F, 0.2616F};
constexpr std::array<float, 3> kCifar100Mean{0.5071F, 0.4865F, 0.4409F};
constexpr std::array<float, 3> kCifar100Std{0.2673F, 0.2564F, 0.2762F};

torch::Tensor channel_constants(const std::array<float, 3>& values) {
  return torch::tensor({values[0], values[1], values[2]}, torch::kFloat32).view({1, 3, 1, 1});
}

// "<root>/<name>", else "<root>/<subfolder>/<name>": root may be the folder
// holding the files or the one the tarball was unpacked in.
std::filesystem::path find_file(const std::filesystem::path& root, const VariantFiles& files,
                                const std::string& name, CifarVariant variant) {
  const std::vector<std::filesystem::path> candidates = {root / name,
                                                         root / files.subfolder / name};
  std::error_code ec;
  for (const auto& candidate : candidates) {
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  const auto variant_name = cifar_variant_name(variant);
  std::string message =
      cat(variant_name, " file ", name, " not found; tried ", candidates[0].string(), " and ",
          candidates[1].string(), ". Download \"", variant_name,
          " binary version (suitable for C programs)\" from "
          "https://www.cs.toronto.edu/~kriz/cifar.html",
          " and unpack it (tar xzf ", files.tarball, ") so that data.root is the folder holding ",
          files.subfolder, "/ or that folder itself; nothing is downloaded at run time");
  if (root.lexically_normal() == files.default_root.lexically_normal()) {
    const auto cwd = std::filesystem::current_path(ec);
    message += cat(" (the default data.root ", files.default_root.string(),
                   " is relative to the working directory, here ", cwd.string(), ")");
  }
  throw UserError(message);
}

}  // namespace

TensorDataset load_cifar(const std::filesystem::path& root, CifarVariant variant, Split split,
                         const std::string& dataset_name, std::int64_t num_classes) {
  const auto files = files_of(variant);
  const auto& names = split == Split::kTrain ? files.train : files.test;
  // Every path is resolved before any file is read, so a missing batch is
  // reported at once instead of after reading the others.
  std::vector<std::filesystem::path> paths;
  for (const auto& name : names) paths.push_back(find_file(root, files, name, variant));
  std::vector<torch::Tensor> images;
  std::vector<torch::Tensor> labels;
  for (const auto& path : paths) {
    auto records = read_cifar_binary(path, variant, num_classes);
    images.push_back(std::move(records.images));
    labels.push_back(std::move(records.labels));
  }
  const bool is10 = variant == CifarVariant::kCifar10;
  const auto mean = channel_constants(is10 ? kCifar10Mean : kCifar100Mean);
  const auto std = channel_constants(is10 ? kCifar10Std : kCifar100Std);
  TensorDataset dataset;
  dataset.inputs = torch::cat(images, 0).to(torch::kFloat32).div_(255.0).sub_(mean).div_(std);
  dataset.targets = torch::cat(labels, 0);
  dataset.name = dataset_name;
  return dataset;
}

}  // namespace dpsgd::data
