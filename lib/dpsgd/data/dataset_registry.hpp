#pragma once
// Dataset registry, keyed by YAML `data.name`.
#include <cstdint>
#include <functional>
#include <string>

#include "dpsgd/data/tensor_dataset.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::data {

enum class DatasetSplit { kTrain, kTest };

struct DatasetOptions {
  std::string root;  ///< empty: the dataset's default location
};

using DatasetFactory = std::function<TensorDataset(const DatasetOptions&, DatasetSplit)>;
using DatasetRegistry = util::Registry<DatasetFactory>;

void register_builtin_datasets(DatasetRegistry& registry);
const DatasetRegistry& dataset_registry();

}  // namespace dpsgd::data
