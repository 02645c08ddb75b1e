#include "dpsgd/data/dataset_registry.hpp"

#include "dpsgd/data/cifar.hpp"
#include "dpsgd/data/image_folder.hpp"
#include "dpsgd/data/mnist_like.hpp"
#include "dpsgd/util/error.hpp"

namespace dpsgd::data {
namespace {

Split to_split(DatasetSplit s) { return s == DatasetSplit::kTrain ? Split::kTrain : Split::kTest; }

const char* split_dir(DatasetSplit s) {
  switch (s) {
    case DatasetSplit::kTrain:
      return "train";
    case DatasetSplit::kVal:
      return "val";
    case DatasetSplit::kTest:
      break;
  }
  return "test";
}

}  // namespace

void register_builtin_datasets(DatasetRegistry& registry) {
  registry.add("fashion_mnist", "Fashion-MNIST, gzipped IDX (Debian package dataset-fashion-mnist)",
               [](const DatasetOptions& o, DatasetSplit split) {
                 const std::filesystem::path root =
                     o.root.empty() ? kDefaultFashionMnistRoot : std::filesystem::path(o.root);
                 if (split == DatasetSplit::kVal) return TensorDataset{};  // no val split
                 return load_mnist_like(root, to_split(split), "fashion_mnist", o.num_classes);
               });
  registry.add("mnist", "MNIST or any 28x28 IDX set (plain or gzipped) under data.root",
               [](const DatasetOptions& o, DatasetSplit split) {
                 if (o.root.empty()) {
                   throw util::UserError(
                       "data.root is required for data.name 'mnist': the folder holding "
                       "train-images-idx3-ubyte(.gz) and the other IDX files");
                 }
                 if (split == DatasetSplit::kVal) return TensorDataset{};
                 return load_mnist_like(o.root, to_split(split), "mnist", o.num_classes);
               });
  registry.add("cifar10",
               "CIFAR-10 binary version: data_batch_1..5.bin and test_batch.bin in data.root or "
               "data.root/cifar-10-batches-bin/ (default datasets/cifar10)",
               [](const DatasetOptions& o, DatasetSplit split) {
                 const std::filesystem::path root =
                     o.root.empty() ? kDefaultCifar10Root : std::filesystem::path(o.root);
                 if (split == DatasetSplit::kVal) return TensorDataset{};  // no val split
                 return load_cifar(root, CifarVariant::kCifar10, to_split(split), "cifar10",
                                   o.num_classes);
               });
  registry.add("cifar100",
               "CIFAR-100 binary version: train.bin and test.bin in data.root or "
               "data.root/cifar-100-binary/ (default datasets/cifar100); fine labels",
               [](const DatasetOptions& o, DatasetSplit split) {
                 const std::filesystem::path root =
                     o.root.empty() ? kDefaultCifar100Root : std::filesystem::path(o.root);
                 if (split == DatasetSplit::kVal) return TensorDataset{};  // no val split
                 return load_cifar(root, CifarVariant::kCifar100, to_split(split), "cifar100",
                                   o.num_classes);
               });
  registry.add("image_folder",
               "image classification folders <root>/{train,val,test}/<class>/*.png|jpg|jpeg "
               "(val optional; classes: the sorted folder names of train/)",
               [](const DatasetOptions& o, DatasetSplit split) {
                 if (o.root.empty()) {
                   throw util::UserError(
                       "data.root is required for data.name 'image_folder': the folder holding "
                       "train/ and test/ (and optionally val/), each with one folder of images "
                       "per class");
                 }
                 return load_image_folder(o.root, split_dir(split), o.segmentation, "image_folder",
                                          o.num_classes);
               });
  registry.add("segmentation_folder",
               "image segmentation folders <root>/{train,val,test}/{images,masks}/ (e.g. "
               "datasets/duke-oct)",
               [](const DatasetOptions& o, DatasetSplit split) {
                 if (o.root.empty()) {
                   throw util::UserError(
                       "data.root is required for data.name 'segmentation_folder': the folder "
                       "holding train/, val/ and test/, each with images/ and masks/");
                 }
                 std::error_code ec;
                 if (split == DatasetSplit::kVal &&
                     !std::filesystem::exists(std::filesystem::path(o.root) / "val", ec)) {
                   return TensorDataset{};  // no val/: test is evaluated every epoch
                 }
                 return load_segmentation_folder(o.root, split_dir(split), o.segmentation,
                                                 "segmentation_folder", o.num_classes);
               });
}

const DatasetRegistry& dataset_registry() {
  static const DatasetRegistry registry = [] {
    DatasetRegistry r("dataset");
    register_builtin_datasets(r);
    return r;
  }();
  return registry;
}

}  // namespace dpsgd::data
