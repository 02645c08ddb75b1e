// IDX reading and the datasets built on it: exact round trips through gzipped
// and plain files, rejection of damaged files, and the real Fashion-MNIST.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "dpsgd/data/formats/idx_reader.hpp"
#include "dpsgd/data/mnist_like.hpp"
#include "dpsgd/data/tensor_dataset.hpp"
#include "dpsgd/util/error.hpp"
#include "tests/helpers/skip.hpp"
#include <zlib.h>

namespace fs = std::filesystem;
using dpsgd::data::load_mnist_like;
using dpsgd::data::read_idx;
using dpsgd::data::Split;
using dpsgd::data::TensorDataset;
using dpsgd::util::UserError;

namespace {

// Removes a directory tree without std::filesystem::remove_all: the PyPI
// LibTorch's libtorch.so exports its own copy of remove_all, which calls a
// libstdc++ symbol missing from the system's (GCC 12) libstdc++ and segfaults
// (pytorch/pytorch#133437). Listing and removing entry by entry uses only
// functions that resolve safely.
void remove_tree(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(path, ec))) {
    std::vector<fs::path> children;
    for (const auto& entry : fs::directory_iterator(path, ec)) children.push_back(entry.path());
    for (const auto& child : children) remove_tree(child);
  }
  fs::remove(path, ec);
}

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() /
           ("dpsgd-idx-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() { remove_tree(path); }
};

std::vector<unsigned char> idx_bytes(const std::vector<std::uint32_t>& dims,
                                     const std::vector<unsigned char>& data,
                                     unsigned char type_code = 0x08) {
  std::vector<unsigned char> out = {0, 0, type_code, static_cast<unsigned char>(dims.size())};
  for (std::uint32_t d : dims) {
    out.push_back(static_cast<unsigned char>(d >> 24));
    out.push_back(static_cast<unsigned char>(d >> 16));
    out.push_back(static_cast<unsigned char>(d >> 8));
    out.push_back(static_cast<unsigned char>(d));
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_plain(const fs::path& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

void write_gz(const fs::path& path, const std::vector<unsigned char>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  if (!bytes.empty()) {
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()));
  }
  REQUIRE(gzclose(file) == Z_OK);
}

std::vector<unsigned char> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<unsigned char> pattern(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> data(n);
  for (auto& b : data) b = static_cast<unsigned char>(rng() & 0xFF);
  return data;
}

bool tensor_equals_bytes(const torch::Tensor& t, const std::vector<unsigned char>& data) {
  if (t.numel() != static_cast<std::int64_t>(data.size())) return false;
  const auto* p = t.contiguous().data_ptr<std::uint8_t>();
  return std::equal(data.begin(), data.end(), p);
}

// Checks that the message names the file, which is what lets a user fix it.
void require_user_error_naming(const fs::path& path, const std::string& fragment = "") {
  try {
    read_idx(path);
    FAIL("read_idx accepted " << path);
  } catch (const UserError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find(path.string()) != std::string::npos);
    if (!fragment.empty()) CHECK(message.find(fragment) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("read_idx round-trips a gzipped 3-d file exactly", "[data]") {
  TempDir dir;
  // Sizes above 255 exercise all four big-endian bytes of a dimension.
  const std::vector<std::uint32_t> dims = {3, 257, 5};
  const auto data = pattern(3 * 257 * 5, 1);
  const auto path = dir.path / "images-idx3-ubyte.gz";
  write_gz(path, idx_bytes(dims, data));
  REQUIRE(read_all(path).size() < idx_bytes(dims, data).size() + 64);  // really compressed bytes
  REQUIRE(read_all(path)[0] == 0x1f);                                  // gzip magic

  const auto t = read_idx(path);
  CHECK(t.scalar_type() == torch::kUInt8);
  CHECK(t.device().is_cpu());
  CHECK(t.sizes() == at::IntArrayRef({3, 257, 5}));
  CHECK(tensor_equals_bytes(t, data));
  // Row-major: element [i][j][k] is byte (i*257 + j)*5 + k.
  CHECK(t[2][100][4].item<int>() == data[(2 * 257 + 100) * 5 + 4]);
}

TEST_CASE("read_idx round-trips a plain 1-d file exactly", "[data]") {
  TempDir dir;
  const auto data = pattern(1000, 2);
  const auto path = dir.path / "labels-idx1-ubyte";
  write_plain(path, idx_bytes({1000}, data));
  const auto t = read_idx(path);
  CHECK(t.sizes() == at::IntArrayRef({1000}));
  CHECK(tensor_equals_bytes(t, data));
}

TEST_CASE("read_idx accepts a dimension of size zero as an empty tensor", "[data]") {
  TempDir dir;
  const auto path = dir.path / "empty-idx2-ubyte";
  write_plain(path, idx_bytes({0, 28}, {}));
  const auto t = read_idx(path);
  CHECK(t.sizes() == at::IntArrayRef({0, 28}));
}

TEST_CASE("read_idx rejects damaged files with a UserError naming the file", "[data]") {
  TempDir dir;
  const std::vector<std::uint32_t> dims = {4, 28, 28};
  const auto data = pattern(4 * 28 * 28, 3);
  const auto good = idx_bytes(dims, data);

  SECTION("missing file") {
    require_user_error_naming(dir.path / "nope-idx3-ubyte.gz", "cannot open");
  }
  SECTION("directory") {
    fs::create_directories(dir.path / "a-dir");
    require_user_error_naming(dir.path / "a-dir", "directory");
  }
  SECTION("empty file") {
    const auto path = dir.path / "empty";
    write_plain(path, {});
    require_user_error_naming(path, "too short");
  }
  SECTION("truncated data, plain") {
    auto bytes = good;
    bytes.resize(bytes.size() - 1);
    const auto path = dir.path / "short-plain";
    write_plain(path, bytes);
    require_user_error_naming(path, "truncated");
  }
  SECTION("truncated data, gzipped (complete gzip stream, short content)") {
    auto bytes = good;
    bytes.resize(bytes.size() - 100);
    const auto path = dir.path / "short.gz";
    write_gz(path, bytes);
    require_user_error_naming(path, "truncated");
  }
  SECTION("gzip stream itself cut short") {
    const auto full = dir.path / "full.gz";
    write_gz(full, good);
    auto compressed = read_all(full);
    compressed.resize(compressed.size() / 2);
    const auto path = dir.path / "cut.gz";
    write_plain(path, compressed);
    require_user_error_naming(path);
  }
  SECTION("truncated header") {
    auto bytes = good;
    bytes.resize(9);  // magic + one and a quarter dims
    const auto path = dir.path / "short-header";
    write_plain(path, bytes);
    require_user_error_naming(path, "header");
  }
  SECTION("trailing bytes") {
    auto bytes = good;
    bytes.push_back(7);
    const auto path = dir.path / "long.gz";
    write_gz(path, bytes);
    require_user_error_naming(path, "longer");
  }
  SECTION("bad magic") {
    auto bytes = good;
    bytes[0] = 0x12;
    const auto path = dir.path / "bad-magic";
    write_plain(path, bytes);
    require_user_error_naming(path, "magic");
  }
  SECTION("unknown type code") {
    const auto path = dir.path / "bad-type";
    write_plain(path, idx_bytes(dims, data, 0x42));
    require_user_error_naming(path, "0x42");
  }
  SECTION("known but unsupported type code") {
    const auto path = dir.path / "floats";
    write_plain(path, idx_bytes({4}, pattern(16, 4), 0x0D));
    require_user_error_naming(path, "float32");
  }
  SECTION("zero dimensions") {
    const auto path = dir.path / "no-dims";
    write_plain(path, idx_bytes({}, {}));
    require_user_error_naming(path, "dimensions");
  }
  SECTION("a text file") {
    const auto path = dir.path / "readme.txt";
    const std::string text = "this is not an IDX file\n";
    write_plain(path, std::vector<unsigned char>(text.begin(), text.end()));
    require_user_error_naming(path, "magic");
  }
}

TEST_CASE("load_mnist_like finds .gz first, falls back to plain, and scales to [0,1]", "[data]") {
  TempDir dir;
  const std::uint32_t n = 6;
  const auto pixels = pattern(n * 28 * 28, 5);
  const std::vector<unsigned char> labels = {3, 0, 9, 1, 1, 7};
  write_gz(dir.path / "train-images-idx3-ubyte.gz", idx_bytes({n, 28, 28}, pixels));
  write_plain(dir.path / "train-labels-idx1-ubyte", idx_bytes({n}, labels));
  // A plain images file with different content beside the .gz: the .gz must win.
  write_plain(dir.path / "train-images-idx3-ubyte",
              idx_bytes({n, 28, 28}, pattern(n * 28 * 28, 6)));

  const auto ds = load_mnist_like(dir.path, Split::kTrain, "tiny");
  CHECK(ds.name == "tiny");
  CHECK(ds.size() == n);
  CHECK(ds.inputs.scalar_type() == torch::kFloat32);
  CHECK(ds.inputs.sizes() == at::IntArrayRef({n, 1, 28, 28}));
  CHECK(ds.targets.scalar_type() == torch::kLong);
  CHECK(ds.targets.sizes() == at::IntArrayRef({n}));
  for (std::uint32_t i = 0; i < n; ++i) CHECK(ds.targets[i].item<std::int64_t>() == labels[i]);
  const auto expected =
      torch::from_blob(const_cast<unsigned char*>(pixels.data()), {n, 1, 28, 28}, torch::kUInt8)
          .to(torch::kFloat32) /
      255.0;
  CHECK(torch::allclose(ds.inputs, expected, 0.0, 1e-7));
  CHECK(ds.inputs.min().item<float>() >= 0.0f);
  CHECK(ds.inputs.max().item<float>() <= 1.0f);
}

TEST_CASE("load_mnist_like reports missing files and mismatched counts", "[data]") {
  TempDir dir;
  SECTION("missing test split names both paths tried") {
    try {
      load_mnist_like(dir.path, Split::kTest, "x");
      FAIL("no error");
    } catch (const UserError& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find((dir.path / "t10k-images-idx3-ubyte.gz").string()) != std::string::npos);
      CHECK(message.find((dir.path / "t10k-images-idx3-ubyte").string()) != std::string::npos);
    }
  }
  SECTION("count mismatch") {
    write_plain(dir.path / "t10k-images-idx3-ubyte", idx_bytes({3, 28, 28}, pattern(3 * 784, 7)));
    write_plain(dir.path / "t10k-labels-idx1-ubyte", idx_bytes({4}, {1, 2, 3, 4}));
    try {
      load_mnist_like(dir.path, Split::kTest, "x");
      FAIL("no error");
    } catch (const UserError& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find("differ") != std::string::npos);
    }
  }
  SECTION("images that are not 28 x 28") {
    write_plain(dir.path / "t10k-images-idx3-ubyte", idx_bytes({2, 32, 32}, pattern(2 * 1024, 8)));
    write_plain(dir.path / "t10k-labels-idx1-ubyte", idx_bytes({2}, {1, 2}));
    CHECK_THROWS_AS(load_mnist_like(dir.path, Split::kTest, "x"), UserError);
  }
}

TEST_CASE("TensorDataset subset and gather", "[data]") {
  TensorDataset ds{torch::arange(10 * 4, torch::kFloat32).reshape({10, 1, 2, 2}),
                   torch::arange(10, torch::kLong), "toy"};
  CHECK(ds.size() == 10);
  CHECK(ds.subset(3).size() == 3);
  CHECK(ds.subset(3).targets.equal(torch::arange(3, torch::kLong)));
  CHECK(ds.subset(3).name == "toy");
  CHECK(ds.subset(50).size() == 10);
  CHECK_THROWS_AS(ds.subset(-1), std::invalid_argument);

  const auto [x, y] = ds.gather(torch::tensor({7, 2, 2}, torch::kLong));
  CHECK(y.equal(torch::tensor({7, 2, 2}, torch::kLong)));
  CHECK(x[0].equal(ds.inputs[7]));
  const auto [ex, ey] = ds.gather(torch::empty({0}, torch::kLong));
  CHECK(ex.sizes() == at::IntArrayRef({0, 1, 2, 2}));
  CHECK(ey.numel() == 0);
  CHECK(TensorDataset{}.size() == 0);
}

TEST_CASE("real Fashion-MNIST loads with 60000/10000 examples and labels 0..9", "[data]") {
  const auto root = dpsgd::data::kDefaultFashionMnistRoot;
  if (!fs::is_directory(root)) {
    DPSGD_SKIP(root << " is absent (apt-get install dataset-fashion-mnist)");
  }
  const auto train = load_mnist_like(root, Split::kTrain, "fashion-mnist");
  const auto test = load_mnist_like(root, Split::kTest, "fashion-mnist");
  CHECK(train.size() == 60000);
  CHECK(test.size() == 10000);
  CHECK(train.inputs.sizes() == at::IntArrayRef({60000, 1, 28, 28}));
  CHECK(test.inputs.sizes() == at::IntArrayRef({10000, 1, 28, 28}));
  for (const auto* ds : {&train, &test}) {
    CHECK(ds->targets.min().item<std::int64_t>() == 0);
    CHECK(ds->targets.max().item<std::int64_t>() == 9);
    // Fashion-MNIST is balanced: every class has exactly a tenth of each split.
    const auto counts = torch::bincount(ds->targets, {}, 10);
    CHECK(counts.eq(ds->size() / 10).all().item<bool>());
    CHECK(ds->inputs.min().item<float>() == 0.0f);
    CHECK(ds->inputs.max().item<float>() == 1.0f);
  }
  // The published files start with these labels (ankle boot, T-shirt, ...).
  CHECK(train.targets.narrow(0, 0, 10).equal(
      torch::tensor({9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, torch::kLong)));
  CHECK(test.targets.narrow(0, 0, 10).equal(
      torch::tensor({9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, torch::kLong)));
}
