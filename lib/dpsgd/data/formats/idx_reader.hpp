#pragma once
// Reader for IDX files, the format of MNIST and of the datasets that copy its
// layout (Fashion-MNIST, KMNIST, ...). An IDX file is
//   bytes 0-1  zero
//   byte  2    element type code (0x08 = unsigned byte; the only one supported)
//   byte  3    number of dimensions d
//   then d big-endian uint32 sizes, then the elements in row-major order.
// Files may be gzipped (".gz", as distributed) or plain; zlib's gzread reads
// both, so the caller does not need to say which.
#include <filesystem>

#include <torch/torch.h>

namespace dpsgd::data {

/// Reads an IDX file of unsigned bytes into a uint8 CPU tensor with the file's
/// shape. Everything is validated (magic, type code, dims, that the data is
/// exactly as long as the dims declare), because a truncated download would
/// otherwise train silently on zeros. Any problem throws util::UserError naming
/// the file and what is wrong with it.
torch::Tensor read_idx(const std::filesystem::path& path);

}  // namespace dpsgd::data
