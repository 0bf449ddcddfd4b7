#!/usr/bin/env bash
# Builds the libFuzzer target for dbkit's server-free core (tests/fuzz/fuzz_core.cpp)
# with ASan + UBSan and runs it for a bounded time (`make fuzz`).
#
#   FUZZ_SECONDS=60     how long to fuzz (libFuzzer -max_total_time)
#   FUZZ_KEEP_GOING=1   fork mode: keep fuzzing after a crash, collect every reproducer
#   FUZZ_ARGS="..."     extra libFuzzer flags
#   tests/fuzz/run.sh FILE...   run the target once on the given inputs (replay a reproducer)
#
# Everything it writes is under build/fuzz/: the binary, a working copy of the seed
# corpus (grown across runs), fuzz.log, and artifacts/ (crash-*, timeout-*, leak-*, oom-*).
# Exit status: 0 when nothing was found, 1 when a reproducer was written (its path is printed).
set -euo pipefail
inputs=()
for f in "$@"; do inputs+=("$(realpath -- "$f")"); done
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${FUZZ_BUILD:-$ROOT/build/fuzz}
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}

# Debian 12: clang-14 compiles; libclang-rt-14-dev has libclang_rt.fuzzer (only a Recommends
# of clang-14, so not there after a --no-install-recommends install); llvm-14 has
# llvm-symbolizer for readable stacks; libfmt-dev is the core's fmt.
pkgs=(clang-14 libclang-rt-14-dev llvm-14 libfmt-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "dbkit fuzz: missing packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
		exit 2
	fi
	echo "dbkit fuzz: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
CXX=${FUZZ_CXX:-clang++-14}
LLVM_BIN=/usr/lib/llvm-14/bin

# Build: one object per source, rebuilt when the source, a core header or the flags change.
# shellcheck disable=SC2054  # the commas are part of -fsanitize=
FLAGS=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=undefined -DFMT_HEADER_ONLY -I"$ROOT/extension")
mkdir -p "$OUT/obj"
stamp="$OUT/obj/flags"
if [[ ! -f $stamp || "$(cat "$stamp")" != "$CXX ${FLAGS[*]}" ]]; then
	rm -f "$OUT"/obj/*.o
	echo "$CXX ${FLAGS[*]}" >"$stamp"
fi
headers=("$ROOT"/extension/core/*.hpp)
objs=()
for src in "$ROOT"/extension/core/*.cpp "$ROOT/tests/fuzz/fuzz_core.cpp"; do
	obj="$OUT/obj/$(basename "${src%.cpp}").o"
	objs+=("$obj")
	stale=0
	[[ -f $obj && $obj -nt $src ]] || stale=1
	for h in "${headers[@]}"; do [[ $h -nt $obj ]] && stale=1; done
	if ((stale)); then
		echo "dbkit fuzz: compiling ${src#"$ROOT"/}"
		"$CXX" "${FLAGS[@]}" -c "$src" -o "$obj"
	fi
done
"$CXX" -fsanitize=fuzzer,address,undefined "${objs[@]}" -o "$OUT/fuzz_core"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
[[ -x $LLVM_BIN/llvm-symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$LLVM_BIN/llvm-symbolizer

# Replay mode: run the given inputs once.
if ((${#inputs[@]})); then
	# shellcheck disable=SC2086
	exec "$OUT/fuzz_core" -runs=1 -timeout=10 -rss_limit_mb=2048 ${FUZZ_ARGS:-} "${inputs[@]}"
fi

# Fuzz a copy of the seed corpus; the repository is never written.
mkdir -p "$OUT/corpus" "$OUT/artifacts"
cp "$ROOT"/tests/fuzz/corpus/* "$OUT/corpus/"
marker="$OUT/.run-start"
touch "$marker"
args=(-max_total_time="$SECONDS_TO_RUN" -max_len=65536 -timeout=10 -rss_limit_mb=2048
      -dict="$ROOT/tests/fuzz/core.dict" -artifact_prefix="$OUT/artifacts/" -print_final_stats=1)
if [[ ${FUZZ_KEEP_GOING:-0} == 1 ]]; then
	args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
# shellcheck disable=SC2206
args+=(${FUZZ_ARGS:-})
echo "dbkit fuzz: running ${SECONDS_TO_RUN}s (log: ${OUT#"$ROOT"/}/fuzz.log)"
set +e
"$OUT/fuzz_core" "${args[@]}" "$OUT/corpus" >"$OUT/fuzz.log" 2>&1
rc=$?
set -e
# Total executions: the last status line (#N ...) and, when libFuzzer got to print it, its final stats.
grep -E '^#[0-9]+' "$OUT/fuzz.log" | tail -1 | cut -c1-120 || true
grep -E '^(stat::number_of_executed_units|Done [0-9]+ runs)' "$OUT/fuzz.log" || true

found=()
while IFS= read -r f; do found+=("$f"); done < <(find "$OUT/artifacts" -type f -newer "$marker" | sort)
if ((rc != 0 || ${#found[@]})); then
	echo "dbkit fuzz: FAILED (libFuzzer exit $rc); see ${OUT#"$ROOT"/}/fuzz.log" >&2
	grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant failed|terminate called|what\(\)' \
		"$OUT/fuzz.log" | sort | uniq -c | head -20 >&2 || true
	for f in "${found[@]}"; do
		echo "dbkit fuzz: reproducer: ${f#"$ROOT"/} (replay: tests/fuzz/run.sh ${f#"$ROOT"/})" >&2
	done
	exit 1
fi
echo "dbkit fuzz: no crash, timeout or leak found"
