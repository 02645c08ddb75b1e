#include "dpsgd/data/formats/image_file.hpp"

#include <cctype>

#include "dpsgd/data/formats/png_reader.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

#ifdef DPSGD_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace dpsgd::data {
namespace {

// 65535 / 255: maps the 16-bit range exactly onto the 8-bit one.
constexpr double k16To8 = 257.0;

torch::Tensor samples_tensor(const DecodedImage& image) {
  std::vector<std::int32_t> values(image.samples.begin(), image.samples.end());
  return torch::tensor(values, torch::kInt32)
      .view({image.height, image.width, image.channels})
      .permute({2, 0, 1})
      .contiguous();
}

bool is_png(const std::filesystem::path& path) {
  auto ext = path.extension().string();
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".png";
}

void require_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw util::UserError(util::cat(path.string(), ": image file not found"));
  }
}

// Any non-PNG file through OpenCV, as int32 C x H x W (RGB order) plus its
// bit depth (8 or 16).
std::pair<torch::Tensor, int> read_with_opencv(const std::filesystem::path& path) {
#ifdef DPSGD_HAVE_OPENCV
  cv::Mat m = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
  if (m.empty()) throw util::UserError(util::cat(path.string(), ": OpenCV cannot read this image"));
  if (m.depth() != CV_8U && m.depth() != CV_16U) {
    throw util::UserError(util::cat(path.string(), ": only 8- and 16-bit images are supported"));
  }
  const int depth = m.depth() == CV_16U ? 16 : 8;
  // OpenCV stores colour as BGR(A); the tensor is RGB(A), as the PNG reader gives.
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  if (m.channels() == 4) cv::cvtColor(m, m, cv::COLOR_BGRA2RGBA);
  cv::Mat as_int;
  m.convertTo(as_int, CV_32S);
  const auto h = static_cast<std::int64_t>(as_int.rows);
  const auto w = static_cast<std::int64_t>(as_int.cols);
  const auto c = static_cast<std::int64_t>(as_int.channels());
  auto t = torch::from_blob(as_int.data, {h, w, c}, torch::kInt32).clone();
  return {t.permute({2, 0, 1}).contiguous(), depth};
#else
  throw util::UserError(util::cat(
      path.string(),
      ": this build has no OpenCV, so only PNG images can be read; convert the data set to PNG "
      "or rebuild with OpenCV (libopencv-dev)"));
#endif
}

// Integer samples of `depth` bits as float in 0-255.
torch::Tensor to_8bit_range(const torch::Tensor& values, int depth) {
  const auto v = values.to(torch::kFloat32);
  if (depth == 16) return v / k16To8;
  if (depth < 8) return v * (255.0 / static_cast<double>((1 << depth) - 1));
  return v;
}

}  // namespace

torch::Tensor read_image_file(const std::filesystem::path& path) {
  require_file(path);
  if (is_png(path)) {
    const DecodedImage image = read_png(path, PaletteOutput::kColours);
    // Palette colours are 8-bit whatever the index depth.
    return to_8bit_range(samples_tensor(image), image.palette ? 8 : image.stored_bit_depth);
  }
  const auto [values, depth] = read_with_opencv(path);
  return to_8bit_range(values, depth);
}

torch::Tensor read_mask_file(const std::filesystem::path& path) {
  require_file(path);
  if (is_png(path)) return samples_tensor(read_png(path, PaletteOutput::kIndices));
  return read_with_opencv(path).first;
}

}  // namespace dpsgd::data
