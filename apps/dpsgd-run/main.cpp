// dpsgd-run: parses the command line and calls the library. Nothing else.
//   dpsgd-run CONFIG.yaml [--set key=value]... [--variant NAME]... [--out DIR] [--device D]
//   dpsgd-run bench CONFIG.yaml [--steps N] [--engines a,b,...] [--json] [--device D] [--set
//   k=v]... dpsgd-run epsilon --sample-rate Q --noise-multiplier S --steps N --delta D
//   [--accountant A] dpsgd-run calibrate --target-epsilon E --sample-rate Q --steps N --delta D
//   [--accountant A]
// Exit codes: 0 success, 1 a run failed (recorded in index.json), 2 bad input.
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "dpsgd/experiment/accounting_commands.hpp"
#include "dpsgd/experiment/bench.hpp"
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

// Parses `argv` with `app`; returns an exit code if parsing ended the program.
std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitBadInput;
  }
  return std::nullopt;
}

int run_accounting(const std::string& command, int argc, char** argv) {
  const bool calibrate = command == "calibrate";
  CLI::App app{calibrate ? "dpsgd-run calibrate: smallest noise multiplier for a target epsilon"
                         : "dpsgd-run epsilon: privacy spent by Poisson-subsampled Gaussian steps"};
  dpsgd::experiment::AccountingQuery query;
  std::string conversion = "improved";
  app.add_option("--sample-rate", query.sample_rate, "Poisson sampling rate q in (0, 1]")
      ->required();
  if (calibrate) {
    app.add_option("--target-epsilon", query.target_epsilon, "target epsilon")->required();
  } else {
    app.add_option("--noise-multiplier", query.noise_multiplier, "sigma >= 0")->required();
  }
  app.add_option("--steps", query.steps, "number of steps >= 0")->required();
  app.add_option("--delta", query.delta, "delta in (0, 1)")->required();
  app.add_option("--accountant", query.accountant, "accountant (default rdp)");
  app.add_option("--rdp-conversion", conversion, "improved (default) or classic")
      ->check(CLI::IsMember({"improved", "classic"}));
  if (auto code = parse(app, argc, argv)) return *code;
  query.rdp_conversion = dpsgd::accounting::parse_rdp_conversion(conversion);
  const auto answer = calibrate ? dpsgd::experiment::calibrate_command(query)
                                : dpsgd::experiment::epsilon_command(query);
  std::cout << answer.dump() << std::endl;
  return 0;
}

int run_bench(int argc, char** argv) {
  CLI::App app{"dpsgd-run bench: step time of each engine vs non-private training"};
  dpsgd::experiment::BenchRequest request;
  std::string config_path;
  std::string engines;
  std::string device;
  bool as_json = false;
  app.add_option("config", config_path, "experiment YAML file")->required();
  app.add_option("--steps", request.steps, "timed steps per engine (default 20)");
  app.add_option("--warmup", request.warmup, "untimed steps first (default 3)");
  app.add_option("--engines", engines, "comma-separated engines (default materialize,ghost)");
  app.add_flag("--json", as_json, "print one JSON object instead of a table");
  app.add_option("--device", device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--variant", request.variant, "the variant to bench, for a file with variants");
  app.add_option("--set", request.overrides, "override a config key (value read as YAML)")
      ->take_all();
  if (auto code = parse(app, argc, argv)) return *code;
  dpsgd::util::log::init(false);
  request.config_path = config_path;
  request.device = parse_device(device);
  std::stringstream list(engines);
  for (std::string e; std::getline(list, e, ',');) {
    if (!e.empty()) request.engines.push_back(e);
  }
  const auto result = dpsgd::experiment::run_bench(request);
  std::cout << (as_json ? result.dump() + "\n" : dpsgd::experiment::bench_table(result))
            << std::flush;
  return 0;
}

int run_main(int argc, char** argv) {
  if (argc >= 2) {
    const std::string first = argv[1];
    if (first == "bench") return run_bench(argc - 1, argv + 1);
    if (first == "epsilon" || first == "calibrate") {
      return run_accounting(first, argc - 1, argv + 1);
    }
  }
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
  app.add_option("--variant", request.variants,
                 "run only this variant of a file with `variants:` (repeatable)")
      ->take_all();
  app.add_option("--device", device, "auto, cpu or cuda (overrides the config)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_flag("-v,--verbose", verbose, "debug logging");
  if (auto code = parse(app, argc, argv)) return *code;
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
