#include "dpsgd/data/formats/cifar_binary.hpp"

#include <fstream>
#include <string>

#include "dpsgd/data/label_check.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::data {
namespace {

using util::cat;
using util::UserError;

constexpr std::int64_t kSide = 32;
constexpr std::int64_t kPixelBytes = 3 * kSide * kSide;
// CIFAR-100's coarse labels (the 20 superclasses) are checked even though only
// the fine label is used: a wrong coarse byte means the records are misaligned.
constexpr std::int64_t kCifar100CoarseClasses = 20;

std::int64_t label_bytes(CifarVariant variant) {
  return variant == CifarVariant::kCifar100 ? 2 : 1;
}

std::int64_t record_bytes(CifarVariant variant) { return label_bytes(variant) + kPixelBytes; }

CifarVariant other(CifarVariant variant) {
  return variant == CifarVariant::kCifar10 ? CifarVariant::kCifar100 : CifarVariant::kCifar10;
}

// The two variants differ only in the number of label bytes, so a file of the
// other variant is the likeliest mistake; the hint names it before suggesting a
// fresh download.
std::string wrong_format_fix(CifarVariant variant) {
  const auto o = other(variant);
  return cat("if it is a ", cifar_variant_name(o), " file (", label_bytes(o), " label byte",
             label_bytes(o) == 1 ? "" : "s", " per record), use data.name ",
             o == CifarVariant::kCifar10 ? "cifar10" : "cifar100", "; otherwise download the ",
             cifar_variant_name(variant), " binary version again and unpack it");
}

void check_size(const std::filesystem::path& path, std::uintmax_t size, CifarVariant variant) {
  const auto name = cifar_variant_name(variant);
  const auto record = static_cast<std::uintmax_t>(record_bytes(variant));
  if (size == 0) {
    throw UserError(cat(path.string(), ": the file is empty; a ", name, " binary file holds ",
                        record, "-byte records. Download the ", name,
                        " binary version again and unpack it"));
  }
  if (size % record != 0) {
    throw UserError(cat(path.string(), ": size ", size, " bytes is not a multiple of the ", name,
                        " record size ", record, " (", label_bytes(variant),
                        " label byte(s) + 3072 pixel bytes), so the file is truncated or not in ",
                        name, " binary format; ", wrong_format_fix(variant)));
  }
}

// The whole file as N x record bytes.
torch::Tensor read_records(const std::filesystem::path& path, CifarVariant variant) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw UserError(cat(path.string(), ": ", cifar_variant_name(variant), " file not found"));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw UserError(cat(path.string(), ": cannot read the file's size: ", ec.message()));
  check_size(path, size, variant);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw UserError(cat(path.string(), ": cannot be opened for reading (check its permissions)"));
  }
  const auto count = static_cast<std::int64_t>(size) / record_bytes(variant);
  auto bytes = torch::empty({count, record_bytes(variant)}, torch::kUInt8);
  in.read(reinterpret_cast<char*>(bytes.data_ptr<std::uint8_t>()),
          static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) {
    throw UserError(cat(path.string(), ": read only ", in.gcount(), " of its ", size,
                        " bytes (was it changed or is the disk failing?)"));
  }
  return bytes;
}

void check_label_byte(const torch::Tensor& column, std::int64_t classes, const char* which,
                      const std::filesystem::path& path, CifarVariant variant) {
  const auto bad = (column >= classes).nonzero();
  if (bad.numel() == 0) return;
  const auto record = bad[0][0].item<std::int64_t>();
  throw UserError(cat(path.string(), ": record ", record, " (byte offset ",
                      record * record_bytes(variant), ") has ", which, " ",
                      column[record].item<std::int64_t>(), ", outside ",
                      cifar_variant_name(variant), "'s 0..", classes - 1, " (", bad.size(0),
                      " records in all): ", wrong_format_fix(variant)));
}

}  // namespace

const char* cifar_variant_name(CifarVariant variant) {
  return variant == CifarVariant::kCifar10 ? "CIFAR-10" : "CIFAR-100";
}

std::int64_t cifar_class_count(CifarVariant variant) {
  return variant == CifarVariant::kCifar10 ? 10 : 100;
}

CifarRecords read_cifar_binary(const std::filesystem::path& path, CifarVariant variant,
                               std::int64_t num_classes) {
  const auto bytes = read_records(path, variant);
  const auto count = bytes.size(0);
  const auto label_column = bytes.select(1, label_bytes(variant) - 1);
  if (variant == CifarVariant::kCifar100) {
    check_label_byte(bytes.select(1, 0), kCifar100CoarseClasses, "coarse label", path, variant);
  }
  check_label_byte(label_column, cifar_class_count(variant),
                   variant == CifarVariant::kCifar100 ? "fine label" : "label", path, variant);
  CifarRecords out;
  out.labels = label_column.to(torch::kLong);
  check_labels(out.labels, num_classes, path.string(),
               cat(cifar_variant_name(variant), " has ", cifar_class_count(variant),
                   " classes: set model.num_classes to ", cifar_class_count(variant)));
  out.images = bytes.narrow(1, label_bytes(variant), kPixelBytes)
                   .contiguous()
                   .view({count, 3, kSide, kSide});
  return out;
}

}  // namespace dpsgd::data
