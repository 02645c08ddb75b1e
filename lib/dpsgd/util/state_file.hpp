#pragma once
// Files of tensors that Python reads with plain `torch.load(path)`: a pickled
// dict (torch::pickle_save, the format of torch.save), written atomically
// (util::write_file_atomically) so a kill leaves the previous file intact.
//  - save_tensor_dict: name -> tensor (model.pt: the model's state-dict names);
//  - save_state_file: a StateMap (checkpoint.pt): its tensors under their names
//    plus one entry "__values__" holding the JSON values as a string.
// Tensors are stored on the CPU (a file written on a GPU loads anywhere).
#include <filesystem>
#include <map>
#include <string>

#include <torch/torch.h>

#include "dpsgd/util/state_map.hpp"

namespace dpsgd::util {

void save_tensor_dict(const std::filesystem::path& path,
                      const std::map<std::string, torch::Tensor>& tensors);
/// Throws std::runtime_error naming the file when it cannot be read or is not a
/// name -> tensor dict.
std::map<std::string, torch::Tensor> load_tensor_dict(const std::filesystem::path& path);

void save_state_file(const std::filesystem::path& path, const StateMap& state);
StateMap load_state_file(const std::filesystem::path& path);

}  // namespace dpsgd::util
