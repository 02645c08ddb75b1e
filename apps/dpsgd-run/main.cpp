// dpsgd-run: parses the command line and calls the library. Nothing else.
//   dpsgd-run CONFIG.yaml [--set key=value]... [--out DIR] [--device auto|cpu|cuda]
// Exit codes: 0 success, 1 a run failed (recorded in index.json), 2 bad input.
#include <CLI/CLI.hpp>

#include <iostream>

#include "dpsgd/experiment/run_experiment.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace {

constexpr int kExitBadInput = 2;

std::optional<dpsgd::config::DeviceChoice> parse_device(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text == "auto") return dpsgd::config::DeviceChoice::kAuto;
  if (text == "cpu") return dpsgd::config::DeviceChoice::kCpu;
  return dpsgd::config::DeviceChoice::kCuda;
}

int run_main(int argc, char** argv) {
  CLI::App app{"dpsgd-run: differentially private SGD experiments on LibTorch"};
  dpsgd::experiment::ExperimentRequest request;
  std::string config_path;
  std::string out_dir;
  std::string device;
  bool verbose = false;
  app.add_option("config", config_path, "experiment YAML file")->required();
  app.add_option("--set", request.overrides,
                 "override a config key, value read as YAML (e.g. --set train.epochs=3)")
      ->take_all();
  app.add_option("--out", out_dir, "experiment output folder (default results/<config name>)");
  app.add_option("--device", device, "auto, cpu or cuda (overrides the config)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_flag("-v,--verbose", verbose, "debug logging");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitBadInput;
  }
  dpsgd::util::log::init(verbose);
  request.config_path = config_path;
  if (!out_dir.empty()) request.out_dir = out_dir;
  request.device = parse_device(device);
  return dpsgd::experiment::run_experiment(request);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const dpsgd::util::UserError& e) {
    std::cerr << "dpsgd-run: error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const c10::Error& e) {
    std::cerr << "dpsgd-run: internal error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dpsgd-run: error: " << e.what() << "\n";
    return 1;
  }
}
