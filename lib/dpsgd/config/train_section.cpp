#include "dpsgd/config/sections.hpp"
#include "dpsgd/models/objectives/objective_registry.hpp"
#include "dpsgd/train/lr_schedule.hpp"
#include "dpsgd/train/optimizer_registry.hpp"

namespace dpsgd::config {
namespace {

bool positive(double v) { return v > 0; }
bool non_negative(double v) { return v >= 0; }
bool unit(double v) { return v >= 0 && v < 1; }

void read_score_classes(Section& loss, const YAML::Node& classes, std::int64_t num_classes,
                        std::vector<std::int64_t>& out) {
  const std::string expected = "a non-empty list of class indices in [0, model.num_classes)";
  if (!classes.IsSequence() || classes.size() == 0) {
    loss.fail(loss.key("score_classes"), render(classes), expected);
  }
  for (const auto& item : classes) {
    std::int64_t k = -1;
    try {
      k = item.as<std::int64_t>();
    } catch (const YAML::Exception&) {
      loss.fail(loss.key("score_classes"), render(classes), expected);
    }
    if (k < 0 || k >= num_classes) loss.fail(loss.key("score_classes"), render(classes), expected);
    out.push_back(k);
  }
}

void read_loss(Section& train, ExperimentConfig& c) {
  Section loss(train.get("loss"), "train.loss", train.file());
  const auto& registry = models::objective_registry();
  std::string name = models::kAutoLoss;
  loss.read("name", name, "auto or one of: " + registry.joined_names());
  if (name != models::kAutoLoss && !registry.contains(name)) {
    loss.fail(loss.key("name"), name, "auto or one of: " + registry.joined_names());
  }
  c.loss.name = name;
  auto& lo = c.loss.options;
  loss.read_double("ce_weight", lo.ce_weight, non_negative, "a number >= 0");
  loss.read_double("dice_weight", lo.dice_weight, non_negative, "a number >= 0");
  const auto classes = loss.get("score_classes");
  if (classes && !classes.IsNull()) {
    read_score_classes(loss, classes, c.model.options.num_classes, lo.score_classes);
  }
  if (name == "cross_entropy") {
    for (const char* k : {"ce_weight", "dice_weight", "score_classes"}) {
      if (loss.has(k)) {
        loss.fail(loss.key(k), render(loss.get(k)),
                  "no value: it applies only to cross_entropy_dice (name is 'cross_entropy')");
      }
    }
  }
  lo.num_classes = c.model.options.num_classes;
  loss.finish();
}

void read_optimizer(Section& train, ExperimentConfig& c) {
  Section opt(train.get("optimizer"), "train.optimizer", train.file());
  auto& o = c.optimizer_options;
  opt.read_name("name", c.optimizer, train::optimizer_registry());
  opt.read_double("lr", o.lr, positive, "a number > 0");
  opt.read_double("momentum", o.momentum, unit, "a number in [0, 1)");
  opt.read("nesterov", o.nesterov, "true or false");
  opt.read_double("weight_decay", o.weight_decay, non_negative, "a number >= 0");
  opt.read_double("beta1", o.beta1, unit, "a number in [0, 1)");
  opt.read_double("beta2", o.beta2, unit, "a number in [0, 1)");
  opt.read_double("eps", o.eps, positive, "a number > 0");
  Section sched(opt.get("schedule"), "train.optimizer.schedule", train.file());
  auto& so = c.lr_schedule_options;
  sched.read_name("name", c.lr_schedule, train::lr_schedule_registry());
  sched.read_double("warmup_epochs", so.warmup_epochs, non_negative, "a number >= 0");
  sched.read_double("step_epochs", so.step_epochs, positive, "a number > 0");
  sched.read_double(
      "gamma", so.gamma, [](double v) { return v > 0 && v <= 1; }, "a number in (0, 1]");
  sched.read_double(
      "min_lr_fraction", so.min_lr_fraction, [](double v) { return v >= 0 && v <= 1; },
      "a number in [0, 1]");
  sched.finish();
  opt.finish();
}

// Upper bounds that keep the step arithmetic (steps per epoch times epochs,
// batch sizes times per-example sizes) far from int64 overflow; no real run
// comes near them.
constexpr std::int64_t kMaxEpochs = 1000000;
constexpr std::int64_t kMaxBatch = 1000000000;

}  // namespace

void read_train_section(Section& top, ExperimentConfig& c) {
  Section train(top.get("train"), "train", top.file());
  train.read_int("epochs", c.train.epochs, 1, kMaxEpochs, "an integer in [1, 1000000]");
  train.read_int("batch_size", c.train.batch_size, 1, kMaxBatch, "an integer in [1, 1e9]");
  train.read_int("physical_batch_size", c.train.physical_batch_size, 0, kMaxBatch,
                 "an integer in [0, 1e9] (0 = whole batch)");
  train.read_int("eval_batch_size", c.train.eval_batch_size, 1, kMaxBatch,
                 "an integer in [1, 1e9]");
  std::string sampling = "poisson";
  train.read("sampling", sampling, "poisson or shuffle");
  if (sampling != "poisson" && sampling != "shuffle") {
    train.fail(train.key("sampling"), sampling, "poisson or shuffle");
  }
  c.train.sampling = sampling == "poisson" ? data::Sampling::kPoisson : data::Sampling::kShuffle;
  train.read_int("divergence_steps", c.train.divergence_steps, 0,
                 "an integer >= 0 (0: never stop for a non-finite loss)");
  std::string precision = "float32";
  train.read("precision", precision, "float32 or bf16");
  if (precision != "float32" && precision != "bf16") {
    train.fail(train.key("precision"), precision, "float32 or bf16");
  }
  c.train.precision = precision == "bf16" ? util::Precision::kBf16 : util::Precision::kFloat32;
  Section ema(train.get("ema"), "train.ema", train.file());
  ema.read_double(
      "decay", c.train.ema_decay, [](double v) { return v >= 0.0 && v < 1.0; },
      "a number in [0, 1) (0: no average)");
  ema.read("warmup", c.train.ema_warmup, "true or false");
  ema.finish();
  read_loss(train, c);
  read_optimizer(train, c);
  train.finish();
}

}  // namespace dpsgd::config
