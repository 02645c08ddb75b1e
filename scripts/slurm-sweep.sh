#!/usr/bin/env bash
# Submits the runs of one experiment as a Slurm job array: one run per array task,
# each task one process on one GPU (Slurm's CUDA_VISIBLE_DEVICES makes it cuda:0),
# all writing into the one experiment folder (run folders are claimed, and
# index.json merged, under file locks: the folder must be on a shared filesystem).
#
#   scripts/slurm-sweep.sh CONFIG [sbatch options...] [-- dpsgd-run options...]
#
# e.g. scripts/slurm-sweep.sh configs/oct_study.yaml --partition=gpu --time=04:00:00 \
#        -- --out /shared/results/oct_study
# The plan (`dpsgd-run plan`) fixes the number of tasks N; task I runs `--shard I/N`,
# which is exactly the plan's run I (of the --only runs, when given). A task that finds its run finished skips it, and
# one that finds a checkpoint resumes it, so resubmitting the same command finishes a
# partly done sweep. dpsgd-run options (--set, --variant, --out, --device, --only) go
# after `--` and reach both the plan and every task (default --device cuda).
# Environment: DPSGD_RUN (the binary; default build/apps/dpsgd-run), DPSGD_ARRAY_LIMIT
# (at most this many tasks at once: --array=0-(N-1)%LIMIT), SBATCH (the submit command;
# default sbatch). Prints the task script before submitting it.
# `plan` loads the data sets (and extracts features) to size the plan: run this where
# the data is, e.g. on a node with the shared filesystem (features come from the cache).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ]; then
  sed -n '2,20p' "${BASH_SOURCE[0]}" >&2
  exit 2
fi
CONFIG="$1"
shift
SBATCH_ARGS=()
RUN_ARGS=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then
    shift
    RUN_ARGS=("$@")
    break
  fi
  SBATCH_ARGS+=("$1")
  shift
done
BIN="$(command -v "${DPSGD_RUN:-$ROOT/build/apps/dpsgd-run}" || true)"
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
  echo "slurm-sweep: no dpsgd-run at ${DPSGD_RUN:-$ROOT/build/apps/dpsgd-run} (build it, or set DPSGD_RUN)" >&2
  exit 2
fi
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
CONFIG="$(cd "$(dirname "$CONFIG")" && pwd)/$(basename "$CONFIG")"

# `plan` takes the selection and config options, not --out or --device.
PLAN_ARGS=()
DEVICE=""
for ((i = 0; i < ${#RUN_ARGS[@]}; i++)); do
  case "${RUN_ARGS[$i]}" in
    --out) i=$((i + 1)) ;;
    --out=*) ;;
    --device) DEVICE="${RUN_ARGS[$((i + 1))]:-}"; i=$((i + 1)) ;;
    --device=*) DEVICE="${RUN_ARGS[$i]#--device=}" ;;
    --restart | -v | --verbose) ;;
    --shard | --shard=*)
      echo "slurm-sweep: --shard is this script's (one array task per run); use --only to pick runs" >&2
      exit 2 ;;
    *) PLAN_ARGS+=("${RUN_ARGS[$i]}") ;;
  esac
done
if [ -z "$DEVICE" ]; then
  DEVICE=cuda
  RUN_ARGS+=(--device cuda)
fi
GPU_ARGS=()
[ "$DEVICE" = cpu ] || GPU_ARGS=(--gpus-per-task=1)
# (${A[@]+"${A[@]}"}: an empty array under set -u, also on bash before 4.4.)
PLAN_JSON="$("$BIN" plan "$CONFIG" ${PLAN_ARGS[@]+"${PLAN_ARGS[@]}"})"
N="$(printf '%s' "$PLAN_JSON" | python3 -c 'import json, sys; print(json.load(sys.stdin)["run_count"])')"
NAME="$(printf '%s' "$PLAN_JSON" | python3 -c 'import json, sys; print(json.load(sys.stdin)["experiment"])')"
if [ "$N" -lt 1 ]; then
  echo "slurm-sweep: the plan of $CONFIG has no runs" >&2
  exit 2
fi
ARRAY="0-$((N - 1))"
[ -n "${DPSGD_ARRAY_LIMIT:-}" ] && ARRAY="$ARRAY%$DPSGD_ARRAY_LIMIT"

# The task as a bash job script (printf %q quotes for bash; sbatch copies the file
# when it submits, so a temporary one will do).
JOB="$(mktemp "${TMPDIR:-/tmp}/dpsgd-sweep-XXXXXX.sh")"
trap 'rm -f "$JOB"' EXIT
{
  echo '#!/usr/bin/env bash'
  printf 'exec %s' "$(printf '%q ' "$BIN" run "$CONFIG" "${RUN_ARGS[@]}")"
  printf -- '--shard "$SLURM_ARRAY_TASK_ID/%s"\n' "$N"
} > "$JOB"
SUBMIT=("${SBATCH:-sbatch}" --array="$ARRAY" --ntasks=1 ${GPU_ARGS[@]+"${GPU_ARGS[@]}"}
  --job-name="dpsgd-$NAME" --output="dpsgd-$NAME-%A_%a.log"
  ${SBATCH_ARGS[@]+"${SBATCH_ARGS[@]}"} "$JOB")
echo "slurm-sweep: $N run(s) of '$NAME' as array $ARRAY; task script $JOB:"
cat "$JOB"
"${SUBMIT[@]}"
