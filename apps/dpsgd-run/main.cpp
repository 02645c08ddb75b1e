// dpsgd-run: parses the command line and calls the library. Nothing else.
//   dpsgd-run run CONFIG.yaml [--set key=value]... [--variant NAME]... [--out DIR]
//             [--device D] [--restart] [--only ID]... [--shard I/N] [-v]
//   dpsgd-run plan CONFIG.yaml [--set key=value]... [--variant NAME]... [--only ID]...
//             [--shard I/N]        (the runs as JSON: id, run id, variant, settings)
// D: auto, cpu, cuda or cuda:N. Several processes (torchrun, srun: RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT) train each run together, data parallel.
//   dpsgd-run audit CONFIG.yaml [--canaries M] [--confidence C] [--kind gradient,input]
//             [--no-control] [--set key=value]... [--variant NAME]... [--only ID]... [--out DIR]
//             [--device D]   (an empirical privacy audit of each run: OUT/audit.json)
//   dpsgd-run evaluate RUN_DIR [--split test|val] [--set key=value]... [--device D]
//   dpsgd-run CONFIG.yaml ...   (the same: `run` is the default subcommand)
//   dpsgd-run bench CONFIG.yaml [--steps N] [--warmup N] [--engines a,b,...] [--json]
//             [--device D] [--variant NAME] [--set k=v]...
//   dpsgd-run epsilon --sample-rate Q --noise-multiplier S --steps N --delta D
//             [--accountant A] [--rdp-conversion improved|classic]
//   dpsgd-run calibrate --target-epsilon E --sample-rate Q --steps N --delta D
//             [--accountant A] [--rdp-conversion improved|classic]
//   dpsgd-run list [--json]
//   dpsgd-run --help | --version
// Exit codes: 0 success (and --help, --version), 1 a run failed or diverged (recorded in
// index.json) or an audit found a VIOLATION, 2 bad input (command-line parse errors
// included), 128 + N stopped by signal N (SIGINT 130, SIGTERM 143, SIGHUP 129; the runs
// resume when rerun).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "dpsgd/experiment/accounting_commands.hpp"
#include "dpsgd/experiment/audit_run.hpp"
#include "dpsgd/experiment/bench.hpp"
#include "dpsgd/experiment/evaluate_run.hpp"
#include "dpsgd/experiment/registry_listing.hpp"
#include "dpsgd/experiment/run_experiment.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/version.hpp"

namespace {

constexpr int kExitBadInput = 2;
const std::vector<std::string> kSubcommands = {"run",     "plan",      "audit",    "bench",
                                               "epsilon", "calibrate", "evaluate", "list"};

// "cuda:N": N (validated by add_device_option); otherwise -1.
int device_index(const std::string& text) {
  return text.rfind("cuda:", 0) == 0 ? std::stoi(text.substr(5)) : -1;
}

std::optional<dpsgd::config::DeviceChoice> parse_device(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text == "auto") return dpsgd::config::DeviceChoice::kAuto;
  if (text == "cpu") return dpsgd::config::DeviceChoice::kCpu;
  return dpsgd::config::DeviceChoice::kCuda;
}

CLI::Option* add_device_option(CLI::App& app, std::string& device, const std::string& help) {
  const CLI::Validator valid(
      [](std::string& text) -> std::string {
        if (text == "auto" || text == "cpu" || text == "cuda") return {};
        const bool indexed = text.rfind("cuda:", 0) == 0 && text.size() > 5 && text.size() < 9 &&
                             text.find_first_not_of("0123456789", 5) == std::string::npos;
        return indexed ? std::string() : "expected auto, cpu, cuda or cuda:N, got '" + text + "'";
      },
      "auto|cpu|cuda|cuda:N");
  return app.add_option("--device", device, help)->check(valid);
}

// ---- run ------------------------------------------------------------------------

struct RunArgs {
  dpsgd::experiment::ExperimentRequest request;
  std::string config_path;
  std::string out_dir;
  std::string device;
  std::string shard;
  bool verbose = false;
};

void add_selection_options(CLI::App& cmd, RunArgs& a) {
  cmd.add_option("--only", a.request.only,
                 "only this run: its id as `dpsgd-run plan` prints it (repeatable)")
      ->take_all();
  cmd.add_option("--shard", a.shard,
                 "only the runs at plan positions p with p mod N = I (0 <= I < N), e.g. a job "
                 "array task: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT");
}

CLI::App* add_run_command(CLI::App& app, RunArgs& a) {
  CLI::App* cmd =
      app.add_subcommand("run", "train the experiments of a config file (the default subcommand)");
  cmd->add_option("config", a.config_path, "experiment YAML file")->required();
  cmd->add_option("--set", a.request.overrides,
                  "override a config key, value read as YAML (e.g. --set train.epochs=3)")
      ->take_all();
  cmd->add_option("--out", a.out_dir, "experiment output folder (default results/<config name>)");
  cmd->add_option("--variant", a.request.variants,
                  "run only this variant of a file with `variants:` (repeatable)")
      ->take_all();
  add_device_option(*cmd, a.device, "auto, cpu, cuda or cuda:N (overrides the config)");
  cmd->add_flag("--restart", a.request.restart,
                "start every run over (default: skip finished runs, resume from checkpoints)");
  add_selection_options(*cmd, a);
  cmd->add_flag("-v,--verbose", a.verbose, "debug logging");
  return cmd;
}

void fill_request(RunArgs& a) {
  a.request.config_path = a.config_path;
  if (!a.out_dir.empty()) a.request.out_dir = a.out_dir;
  a.request.device = parse_device(a.device);
  a.request.device_index = device_index(a.device);
  if (!a.shard.empty()) a.request.shard = dpsgd::experiment::parse_shard(a.shard);
}

int do_run(RunArgs& a) {
  dpsgd::util::log::init(a.verbose);
  fill_request(a);
  return dpsgd::experiment::run_experiment(a.request);
}

// ---- plan -----------------------------------------------------------------------

CLI::App* add_plan_command(CLI::App& app, RunArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "plan", "print the runs of an experiment as JSON (id, run id, variant, settings)");
  cmd->add_option("config", a.config_path, "experiment YAML file")->required();
  cmd->add_option("--set", a.request.overrides, "override a config key (value read as YAML)")
      ->take_all();
  cmd->add_option("--variant", a.request.variants, "only this variant (repeatable)")->take_all();
  add_selection_options(*cmd, a);
  return cmd;
}

int do_plan(RunArgs& a) {
  dpsgd::util::log::init(false);
  fill_request(a);
  std::cout << dpsgd::experiment::plan_experiment(a.request).dump(2) << std::endl;
  return 0;
}

// ---- audit ----------------------------------------------------------------------

struct AuditArgs {
  RunArgs run;
  dpsgd::experiment::AuditRequest request;
  std::vector<std::string> kinds;
  bool no_control = false;
};

CLI::App* add_audit_command(CLI::App& app, AuditArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "audit", "empirical privacy audit of each run (one-run canary audit): OUT/audit.json");
  cmd->add_option("config", a.run.config_path, "experiment YAML file")->required();
  cmd->add_option("--canaries", a.request.canaries, "number of canaries m (default 1000)")
      ->check(CLI::Range(static_cast<std::int64_t>(1), static_cast<std::int64_t>(100000000)));
  cmd->add_option("--confidence", a.request.confidence, "confidence of the bounds (default 0.95)")
      ->check(CLI::Range(1e-6, 1.0 - 1e-9));
  cmd->add_option("--kind", a.kinds, "canary kinds: gradient, input (default both)")
      ->delimiter(',')
      ->check(CLI::IsMember({"gradient", "input"}));
  cmd->add_flag("--no-control", a.no_control, "skip the sigma-0 control runs");
  cmd->add_option("--set", a.run.request.overrides, "override a config key (value read as YAML)")
      ->take_all();
  cmd->add_option("--out", a.run.out_dir, "experiment output folder (default results/<name>)");
  cmd->add_option("--variant", a.run.request.variants, "only this variant (repeatable)")
      ->take_all();
  add_device_option(*cmd, a.run.device, "auto, cpu, cuda or cuda:N (overrides the config)");
  add_selection_options(*cmd, a.run);
  cmd->add_flag("-v,--verbose", a.run.verbose, "debug logging");
  return cmd;
}

int do_audit(AuditArgs& a) {
  dpsgd::util::log::init(a.run.verbose);
  fill_request(a.run);
  a.request.experiment = a.run.request;
  a.request.control = !a.no_control;
  if (!a.kinds.empty()) {
    a.request.kinds.clear();
    for (const auto& k : a.kinds) {
      a.request.kinds.push_back(k == "gradient" ? dpsgd::experiment::CanaryKind::kGradient
                                                : dpsgd::experiment::CanaryKind::kInput);
    }
  }
  return dpsgd::experiment::run_audit(a.request);
}

// ---- bench ----------------------------------------------------------------------

struct BenchArgs {
  dpsgd::experiment::BenchRequest request;
  std::string config_path;
  std::string engines;
  std::string device;
  bool as_json = false;
};

CLI::App* add_bench_command(CLI::App& app, BenchArgs& a) {
  CLI::App* cmd =
      app.add_subcommand("bench", "time one training step of each engine vs non-private training");
  cmd->add_option("config", a.config_path, "experiment YAML file")->required();
  cmd->add_option("--steps", a.request.steps, "timed steps per engine (default 20)");
  cmd->add_option("--warmup", a.request.warmup, "untimed steps first (default 3)");
  cmd->add_option("--engines", a.engines, "comma-separated engines (default materialize,ghost)");
  cmd->add_flag("--json", a.as_json, "print one JSON object instead of a table");
  add_device_option(*cmd, a.device, "auto, cpu, cuda or cuda:N");
  cmd->add_option("--variant", a.request.variant, "the variant to bench, for a file with variants");
  cmd->add_option("--set", a.request.overrides, "override a config key (value read as YAML)")
      ->take_all();
  return cmd;
}

int do_bench(BenchArgs& a) {
  dpsgd::util::log::init(false);
  a.request.config_path = a.config_path;
  a.request.device = parse_device(a.device);
  a.request.device_index = device_index(a.device);
  std::stringstream list(a.engines);
  for (std::string e; std::getline(list, e, ',');) {
    if (!e.empty()) a.request.engines.push_back(e);
  }
  const auto result = dpsgd::experiment::run_bench(a.request);
  std::cout << (a.as_json ? result.dump() + "\n" : dpsgd::experiment::bench_table(result))
            << std::flush;
  return 0;
}

// ---- evaluate -------------------------------------------------------------------

struct EvaluateArgs {
  dpsgd::experiment::EvaluateRequest request;
  std::string run_dir;
  std::string device;
};

CLI::App* add_evaluate_command(CLI::App& app, EvaluateArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "evaluate", "reload a run's model.pt and print its metrics on a split (JSON)");
  cmd->add_option("run_dir", a.run_dir, "the run's folder (holds config.yaml and model.pt)")
      ->required();
  cmd->add_option("--split", a.request.split, "test (default) or val")
      ->check(CLI::IsMember({"test", "val"}));
  cmd->add_option("--set", a.request.overrides, "override a key of the run's config.yaml")
      ->take_all();
  add_device_option(*cmd, a.device, "auto, cpu or cuda");
  return cmd;
}

int do_evaluate(EvaluateArgs& a) {
  dpsgd::util::log::init(false);
  a.request.run_dir = a.run_dir;
  a.request.device = parse_device(a.device);
  a.request.device_index = device_index(a.device);
  std::cout << dpsgd::experiment::evaluate_run(a.request).dump(2) << std::endl;
  return 0;
}

// ---- epsilon and calibrate --------------------------------------------------------

struct AccountingArgs {
  dpsgd::experiment::AccountingQuery query;
  std::string conversion = "improved";
};

CLI::App* add_accounting_command(CLI::App& app, AccountingArgs& a, bool calibrate) {
  CLI::App* cmd =
      calibrate
          ? app.add_subcommand("calibrate", "smallest noise multiplier that meets a target epsilon")
          : app.add_subcommand("epsilon",
                               "privacy spent by Poisson-subsampled Gaussian steps (JSON)");
  auto& q = a.query;
  cmd->add_option("--sample-rate", q.sample_rate, "Poisson sampling rate q in (0, 1]")->required();
  if (calibrate) {
    cmd->add_option("--target-epsilon", q.target_epsilon, "target epsilon")->required();
  } else {
    cmd->add_option("--noise-multiplier", q.noise_multiplier, "sigma >= 0")->required();
  }
  cmd->add_option("--steps", q.steps, "number of steps >= 0")->required();
  cmd->add_option("--delta", q.delta, "delta in (0, 1)")->required();
  cmd->add_option("--accountant", q.accountant, "accountant (default rdp)");
  cmd->add_option("--rdp-conversion", a.conversion, "improved (default) or classic")
      ->check(CLI::IsMember({"improved", "classic"}));
  return cmd;
}

int do_accounting(AccountingArgs& a, bool calibrate) {
  a.query.rdp_conversion = dpsgd::accounting::parse_rdp_conversion(a.conversion);
  const auto answer = calibrate ? dpsgd::experiment::calibrate_command(a.query)
                                : dpsgd::experiment::epsilon_command(a.query);
  std::cout << answer.dump() << std::endl;
  return 0;
}

// ---- list -------------------------------------------------------------------------

int do_list(bool as_json) {
  const auto listings = dpsgd::experiment::builtin_registries();
  if (as_json) {
    std::cout << dpsgd::experiment::registries_json(listings).dump(2) << std::endl;
  } else {
    std::cout << dpsgd::experiment::registries_text(listings) << std::flush;
  }
  return 0;
}

// ---- the command line --------------------------------------------------------------

// `dpsgd-run CONFIG ...` is `dpsgd-run run CONFIG ...`: insert "run" unless the first
// argument names a subcommand or asks the program itself for help or its version.
std::vector<std::string> with_default_subcommand(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() < 2) return args;
  const std::string& first = args[1];
  const bool is_subcommand =
      std::find(kSubcommands.begin(), kSubcommands.end(), first) != kSubcommands.end();
  if (!is_subcommand && first != "-h" && first != "--help" && first != "--version") {
    args.insert(args.begin() + 1, "run");
  }
  return args;
}

// A bare word (no '/', no '.') that is no file is more likely a mistyped subcommand than
// a config file: say so instead of "file not found".
void check_bare_word(const std::string& path) {
  if (path.find_first_of("/.") != std::string::npos || std::filesystem::exists(path)) return;
  std::string names;
  for (const auto& s : kSubcommands) names += (names.empty() ? "" : ", ") + s;
  throw dpsgd::util::UserError("'" + path + "' is neither a subcommand (" + names +
                               ") nor a config file");
}

// Parses `args` with `app`; returns an exit code if parsing ended the program.
std::optional<int> parse(CLI::App& app, std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitBadInput;
  }
  return std::nullopt;
}

int run_main(int argc, char** argv) {
  CLI::App app{"dpsgd-run: differentially private SGD experiments on LibTorch"};
  app.set_version_flag("--version", dpsgd::util::version_line());
  app.require_subcommand(1);
  app.footer(
      "`dpsgd-run CONFIG [options]` is short for `dpsgd-run run CONFIG [options]`.\n"
      "`dpsgd-run SUBCOMMAND --help` describes a subcommand's options.");
  RunArgs run;
  RunArgs plan;
  AuditArgs audit;
  BenchArgs bench;
  AccountingArgs epsilon;
  AccountingArgs calibrate;
  EvaluateArgs evaluate;
  bool list_json = false;
  CLI::App* run_cmd = add_run_command(app, run);
  CLI::App* plan_cmd = add_plan_command(app, plan);
  CLI::App* audit_cmd = add_audit_command(app, audit);
  CLI::App* bench_cmd = add_bench_command(app, bench);
  CLI::App* epsilon_cmd = add_accounting_command(app, epsilon, /*calibrate=*/false);
  CLI::App* calibrate_cmd = add_accounting_command(app, calibrate, /*calibrate=*/true);
  CLI::App* evaluate_cmd = add_evaluate_command(app, evaluate);
  CLI::App* list_cmd = app.add_subcommand(
      "list", "every name a config can use (data sets, models, engines, ...), described");
  list_cmd->add_flag("--json", list_json, "print one JSON object instead of text");

  std::vector<std::string> args = with_default_subcommand(argc, argv);
  const bool implicit_run = static_cast<int>(args.size()) > argc;
  if (auto code = parse(app, args)) return *code;
  if (*run_cmd) {
    if (implicit_run) check_bare_word(run.config_path);
    return do_run(run);
  }
  if (*plan_cmd) return do_plan(plan);
  if (*audit_cmd) return do_audit(audit);
  if (*bench_cmd) return do_bench(bench);
  if (*epsilon_cmd) return do_accounting(epsilon, /*calibrate=*/false);
  if (*calibrate_cmd) return do_accounting(calibrate, /*calibrate=*/true);
  if (*evaluate_cmd) return do_evaluate(evaluate);
  if (*list_cmd) return do_list(list_json);
  return kExitBadInput;  // unreachable: require_subcommand(1)
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
