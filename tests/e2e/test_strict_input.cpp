// End to end (issue 13): input that used to be accepted silently exits with
// code 2 and names the key, the file and the fix; two sweep values that print
// alike get two run folders; a data.root that is not UTF-8 keeps its summary.
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/helpers/files.hpp"
#include "tests/helpers/run_binary.hpp"
#include "tests/helpers/skip.hpp"

namespace fs = std::filesystem;
using Catch::Contains;
using dpsgd::test::fresh_dir;
using dpsgd::test::run_dpsgd;

namespace {

const fs::path kFashion = "/usr/share/datasets/fashion-mnist";

// configs/smoke.yaml cut to one short epoch, one noise multiplier.
std::string quick(const fs::path& out) {
  return "configs/smoke.yaml --out " + out.string() +
         " --device cpu --set train.epochs=1 --set data.train_size=256 --set data.test_size=128";
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
  REQUIRE(out.good());
}

void write_idx(const fs::path& p, const std::vector<unsigned char>& header, std::size_t n,
               unsigned char fill, const std::vector<unsigned char>& body = {}) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(header.data()),
            static_cast<std::streamsize>(header.size()));
  if (!body.empty()) {
    out.write(reinterpret_cast<const char*>(body.data()),
              static_cast<std::streamsize>(body.size()));
  } else {
    const std::string bytes(n, static_cast<char>(fill));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("strict config input exits with code 2 and names what to fix", "[e2e][strict]") {
  const auto dir = fresh_dir("dpsgd_e2e_strict");
  fs::create_directories(dir);
  const auto out = dir / "out";
  const std::string smoke = dpsgd::test::slurp("configs/smoke.yaml");
  REQUIRE(!smoke.empty());

  write_text(dir / "dup.yaml", smoke + "train:\n  epochs: 7\n");
  auto r = run_dpsgd((dir / "dup.yaml").string() + " --out " + out.string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("dup.yaml") && Contains("'train'") && Contains("twice"));

  write_text(dir / "two.yaml", smoke + "---\nname: other\n");
  r = run_dpsgd((dir / "two.yaml").string() + " --out " + out.string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("second YAML document"));

  std::string quote = smoke;
  quote.replace(quote.find("name: smoke"), 11, "name: 'smoke");
  write_text(dir / "quote.yaml", quote);
  r = run_dpsgd((dir / "quote.yaml").string() + " --out " + out.string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("never closed"));

  r = run_dpsgd(quick(out) + " --set train.epochs=");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("train.epochs=null"));

  r = run_dpsgd(quick(out) + " --set train.epochs=9223372036854775807");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("train.epochs") && Contains("9223372036854775807"));

  r = run_dpsgd(quick(out) + " --set 'privacy.noise_multiplier=[1.0, 2.0, 1.0]'");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("privacy.noise_multiplier") && Contains("twice"));
  CHECK_THAT(r.output, !Contains("Exception raised from"));
}

TEST_CASE("sweep values that print alike get their own run folders", "[e2e][strict]") {
  if (!fs::exists(kFashion)) DPSGD_SKIP("Fashion-MNIST not installed");
  const auto out = fresh_dir("dpsgd_e2e_run_ids");
  const auto r = run_dpsgd(quick(out) + " --set 'privacy.noise_multiplier=[1.0, 1.0000001]'");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(fs::exists(out / "sigma-1" / "summary.json"));
  CHECK(fs::exists(out / "sigma-1.0000001" / "summary.json"));
}

TEST_CASE("labels outside model.num_classes are found at load time with exit code 2",
          "[e2e][strict]") {
  const auto root = fresh_dir("dpsgd_e2e_bad_labels");
  fs::create_directories(root);
  const unsigned char n = 4;
  for (const std::string split : {"train", "t10k"}) {
    write_idx(root / (split + "-images-idx3-ubyte"),
              {0, 0, 8, 3, 0, 0, 0, n, 0, 0, 0, 28, 0, 0, 0, 28}, n * 28 * 28, 9);
    write_idx(root / (split + "-labels-idx1-ubyte"), {0, 0, 8, 1, 0, 0, 0, n}, n, 0,
              {0, 1, static_cast<unsigned char>(split == "train" ? 10 : 2), 3});
  }
  const auto r =
      run_dpsgd("configs/smoke.yaml --out " + (root / "out").string() +
                " --device cpu --set data.name=mnist --set data.root=" + root.string() +
                " --set data.train_size=0 --set data.test_size=0 --set train.batch_size=2"
                " --set train.physical_batch_size=0");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("train-labels-idx1-ubyte") && Contains("label 10") &&
                           Contains("model.num_classes = 10"));
}

TEST_CASE("a data.root that is not UTF-8 still gives a summary.json", "[e2e][strict]") {
  if (!fs::exists(kFashion)) DPSGD_SKIP("Fashion-MNIST not installed");
  const auto dir = fresh_dir("dpsgd_e2e_latin1");
  const fs::path root = dir / "caf\xE9";  // a Latin-1 name: not valid UTF-8
  fs::create_directories(root);
  for (const auto& entry : fs::directory_iterator(kFashion)) {
    fs::create_symlink(entry.path(), root / entry.path().filename());
  }
  const auto out = dir / "out";
  const auto r = run_dpsgd(
      quick(out) + " --set privacy.noise_multiplier=1.0 --set 'data.root=" + root.string() + "'");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto summary = dpsgd::test::read_json(out / "sigma-1" / "summary.json");
  CHECK(summary.dump().find("caf\\\\xE9") != std::string::npos);
}
