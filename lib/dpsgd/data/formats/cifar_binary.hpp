#pragma once
// Reader for one file of the CIFAR-10 / CIFAR-100 "binary version" (the one
// the authors publish for C programs). A file is a plain sequence of records,
// with no header:
//   CIFAR-10:  <1 label byte> <3072 pixel bytes>                     (3073 bytes)
//   CIFAR-100: <1 coarse label byte> <1 fine label byte> <3072 pixel bytes> (3074)
// The 3072 pixel bytes are the 32 x 32 image as three planes, red then green
// then blue, each row-major. Because there is no header, the size and the label
// bytes are the only things that tell a truncated or wrong file apart, so both
// are checked on every record.
#include <cstdint>
#include <filesystem>

#include <torch/torch.h>

namespace dpsgd::data {

enum class CifarVariant { kCifar10, kCifar100 };

/// "CIFAR-10" or "CIFAR-100", for messages.
const char* cifar_variant_name(CifarVariant variant);

/// Number of (fine) classes of the variant: 10 or 100.
std::int64_t cifar_class_count(CifarVariant variant);

struct CifarRecords {
  torch::Tensor images;  ///< uint8, N x 3 x 32 x 32 (RGB planes)
  torch::Tensor labels;  ///< int64, N (CIFAR-100: the fine label)
};

/// Reads every record of `path`. Throws util::UserError naming the file when it
/// is missing or unreadable, when its size is not a positive multiple of the
/// record size, when a label byte lies outside the variant's classes (CIFAR-10:
/// 0..9; CIFAR-100: coarse 0..19, fine 0..99; naming the record index and the
/// value), and (num_classes > 0) when a label lies outside [0, num_classes).
CifarRecords read_cifar_binary(const std::filesystem::path& path, CifarVariant variant,
                               std::int64_t num_classes = 0);

}  // namespace dpsgd::data
