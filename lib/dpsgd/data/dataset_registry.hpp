#pragma once
// Dataset registry, keyed by YAML `data.name`.
#include <cstdint>
#include <functional>
#include <string>

#include "dpsgd/data/segmentation_folder.hpp"
#include "dpsgd/data/tensor_dataset.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::data {

/// kVal is optional: a data set without a validation split returns an empty
/// TensorDataset for it (size 0), and training then evaluates on test each epoch.
enum class DatasetSplit { kTrain, kVal, kTest };

struct DatasetOptions {
  std::string root;                        ///< empty: the dataset's default location
  SegmentationFolderOptions segmentation;  ///< segmentation_folder and image_folder
  /// model.num_classes: every label is checked against it when the files are
  /// read (util::UserError naming the file and label); 0 checks nothing.
  std::int64_t num_classes = 0;
};

using DatasetFactory = std::function<TensorDataset(const DatasetOptions&, DatasetSplit)>;
using DatasetRegistry = util::Registry<DatasetFactory>;

void register_builtin_datasets(DatasetRegistry& registry);
const DatasetRegistry& dataset_registry();

}  // namespace dpsgd::data
