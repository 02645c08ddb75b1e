#include "dpsgd/data/mnist_like.hpp"

#include <vector>

#include "dpsgd/data/formats/idx_reader.hpp"
#include "dpsgd/data/label_check.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::data {
namespace {

using util::cat;
using util::UserError;

constexpr std::int64_t kImageSide = 28;

// Resolves "<root>/<stem>.gz", else "<root>/<stem>". The gzipped name is tried
// first because that is how the files are distributed and packaged.
std::filesystem::path find_file(const std::filesystem::path& root, const std::string& stem) {
  const std::vector<std::filesystem::path> candidates = {root / (stem + ".gz"), root / stem};
  std::error_code ec;
  for (const auto& candidate : candidates) {
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  std::string message = cat("dataset file not found; tried ", candidates[0].string(), " and ",
                            candidates[1].string());
  if (root.lexically_normal() == kDefaultFashionMnistRoot.lexically_normal() ||
      root.lexically_normal() == (kDefaultFashionMnistRoot / "").lexically_normal()) {
    message += ". Fashion-MNIST is packaged for Debian: apt-get install dataset-fashion-mnist";
  } else {
    message += cat(". Point the dataset root at a directory holding the MNIST-layout IDX files",
                   " (default ", kDefaultFashionMnistRoot.string(), ")");
  }
  throw UserError(message);
}

}  // namespace

TensorDataset load_mnist_like(const std::filesystem::path& root, Split split,
                              const std::string& dataset_name, std::int64_t num_classes) {
  // "t10k" is MNIST's historical name for the 10,000-example test split.
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  const auto images_path = find_file(root, prefix + "-images-idx3-ubyte");
  const auto labels_path = find_file(root, prefix + "-labels-idx1-ubyte");

  const torch::Tensor images = read_idx(images_path);
  const torch::Tensor labels = read_idx(labels_path);

  // The models are built for 28 x 28 single-channel input; catching another
  // shape here gives a message about the file instead of a shape error deep
  // inside the first convolution.
  if (images.dim() != 3 || images.size(1) != kImageSide || images.size(2) != kImageSide) {
    throw UserError(cat("image file ", images_path.string(), " has shape ", images.sizes(),
                        "; expected N x ", kImageSide, " x ", kImageSide));
  }
  if (labels.dim() != 1) {
    throw UserError(cat("label file ", labels_path.string(), " has shape ", labels.sizes(),
                        "; expected a single dimension N"));
  }
  if (images.size(0) != labels.size(0)) {
    throw UserError(cat("image and label counts differ: ", images_path.string(), " holds ",
                        images.size(0), " images but ", labels_path.string(), " holds ",
                        labels.size(0), " labels"));
  }

  check_labels(labels, num_classes, "label file " + labels_path.string(),
               "set model.num_classes above the largest label, or fix the label file");

  TensorDataset dataset;
  dataset.inputs = images.to(torch::kFloat32).div_(255.0).unsqueeze(1).contiguous();
  dataset.targets = labels.to(torch::kLong);
  dataset.name = dataset_name;
  return dataset;
}

}  // namespace dpsgd::data
