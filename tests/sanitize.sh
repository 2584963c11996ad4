#!/usr/bin/env bash
# tests/sanitize.sh — AddressSanitizer + UndefinedBehaviorSanitizer over the C core.
#
#   tests/sanitize.sh [c] [python] [fuzz]     (default: all three, in this order)
#
#   c       C unit tests + fuzz corpus replay (ctest) built with
#           -DLIQ_SANITIZE=address,undefined, with gcc and (if installed) clang.
#   python  the Cython extension built with the same sanitizers into a dedicated
#           virtualenv (build/san-venv; its own scikit-build dir, so normal builds are
#           not touched), then `pytest tests/python` with the gcc ASan/UBSan runtimes
#           LD_PRELOADed into the (uninstrumented) interpreter; the modules marked io_bound
#           (servers, subprocesses: tests/python/conftest.py) are left to the plain run.
#   fuzz    the libFuzzer harnesses (clang) tests/fuzz/fuzz_book.c (seeded with
#           tests/fuzz/corpus), tests/fuzz/fuzz_frames.c (tests/fuzz/corpus_frames),
#           tests/fuzz/fuzz_alerts.c (tests/fuzz/corpus_alerts) and
#           tests/fuzz/fuzz_ws.c (tests/fuzz/corpus_ws),
#           $LIQ_FUZZ_SECONDS (default 60) seconds in all, split between them.
#
# Every sanitizer report is fatal (CMakeLists.txt sets -fno-sanitize-recover=all, and
# *SAN_OPTIONS below set halt_on_error), so the script exits non-zero on the first
# finding. Leak detection is off for Python only: CPython does not free everything at exit.
#
# Needs: cmake, ninja or make, gcc, python3 with venv; clang + libclang-rt for the fuzz
# step (Debian: apt-get install -y clang libclang-rt-14-dev; see .ci/run). Network access
# to PyPI for the python step's build and test dependencies.
#
# Environment: LIQ_FUZZ_SECONDS (60), LIQ_SAN_DIR (build/san), PYTHON (python3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SAN=address,undefined
OUT=${LIQ_SAN_DIR:-build/san}
FUZZ_SECONDS=${LIQ_FUZZ_SECONDS:-60}
PY=${PYTHON:-python3}
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(c python fuzz)
mkdir -p "$OUT"

t0() { date +%s; }
took() { echo "-- $1: $(( $(date +%s) - $2 ))s"; }

run_c() {
    local cc s
    for cc in gcc clang; do
        if ! command -v "$cc" >/dev/null; then echo "-- $cc not installed: skipped"; continue; fi
        s=$(t0)
        echo "== C tests under $SAN ($cc)"
        CC=$cc cmake -S . -B "$OUT/c-$cc" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Debug -DLIQ_SANITIZE=$SAN >/dev/null
        cmake --build "$OUT/c-$cc" -j2
        ctest --test-dir "$OUT/c-$cc" --output-on-failure
        took "C tests ($cc)" "$s"
    done
}

run_python() {
    local s venv asan ubsan
    s=$(t0)
    echo "== Python tests with the extension under $SAN (gcc)"
    venv=$OUT/san-venv
    [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
    # shellcheck disable=SC1091
    . "$venv/bin/activate"
    python -m pip install -q --disable-pip-version-check "scikit-build-core>=0.10" "cython>=3.0.10" "numpy>=2.0"
    # RelWithDebInfo for readable reports; a separate build dir keeps the normal build cache clean.
    CC=gcc python -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps \
        -C cmake.define.LIQ_SANITIZE=$SAN -C cmake.build-type=RelWithDebInfo \
        -C build-dir="$OUT/skbuild/{wheel_tag}" .
    # the package's own and the [test] extra's dependencies, without rebuilding the package
    python - <<'EOF' > "$OUT/test-requirements.txt"
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["test"]))
EOF
    python -m pip install -q --disable-pip-version-check -r "$OUT/test-requirements.txt"
    # the installed module really is instrumented (run outside the source tree: ./liqcore shadows it)
    (cd tests && python -) <<'EOF'
import importlib.util, pathlib
pkg = pathlib.Path(importlib.util.find_spec("liqcore").submodule_search_locations[0])
for so in pkg.glob("_*.so"):
    assert b"__asan_" in so.read_bytes() and b"__ubsan_" in so.read_bytes(), f"{so} lacks ASan+UBSan"
    print(f"-- {so} is instrumented")
EOF
    asan=$(gcc -print-file-name=libasan.so)
    ubsan=$(gcc -print-file-name=libubsan.so)
    # Run from tests/ so the source tree's liqcore/ (no compiled module) cannot shadow the install.
    (cd tests && LD_PRELOAD="$asan:$ubsan" ASAN_OPTIONS="detect_leaks=0:$ASAN_OPTIONS" \
        PYTHONFAULTHANDLER=1 python -m pytest -q -p no:cacheprovider --capture=sys -m "not io_bound" "$ROOT/tests/python")
    deactivate
    took "Python tests" "$s"
}

run_fuzz() {
    local s work bin target corpus secs
    if ! command -v clang >/dev/null; then echo "fuzz: clang is required (apt-get install -y clang libclang-rt-14-dev)" >&2; exit 1; fi
    CC=clang cmake -S . -B "$OUT/fuzz" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Debug -DLIQ_BUILD_TESTS=OFF \
        -DLIQ_BUILD_FUZZ=ON -DLIQ_SANITIZE=$SAN >/dev/null
    cmake --build "$OUT/fuzz" -j2 --target fuzz_book fuzz_frames fuzz_alerts fuzz_ws
    # the time budget is split between the harnesses (book operations, frame parsers, alert rules,
    # websocket framing)
    secs=$(( FUZZ_SECONDS / 4 ))
    for target in fuzz_book:corpus fuzz_frames:corpus_frames fuzz_alerts:corpus_alerts fuzz_ws:corpus_ws; do
        corpus=tests/fuzz/${target#*:}
        target=${target%%:*}
        s=$(t0)
        echo "== libFuzzer tests/fuzz/$target.c for ${secs}s"
        bin=$OUT/fuzz/tests/fuzz/$target
        work=$OUT/$target-corpus      # grows across runs; the committed corpus is only read
        mkdir -p "$work"
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$OUT/$target-" "$work" "$corpus" 2>&1 | tee "$OUT/$target.log" | grep -E '^#[0-9]+.*(DONE|pulse)|^stat::|ERROR|SUMMARY|crash-|Test unit written' || true
        # tee swallows the fuzzer's status: a finding leaves an artifact and a non-zero exit in the log
        if grep -qE 'ERROR: (libFuzzer|AddressSanitizer|UndefinedBehaviorSanitizer)|runtime error|invariant violated|deadly signal' "$OUT/$target.log"; then
            sed -n '/ERROR\|runtime error\|invariant violated\|deadly signal/,$p' "$OUT/$target.log" | head -60
            echo "fuzz: finding, reproducer in $OUT/$target-crash-* (replay: $bin <file>)" >&2
            exit 1
        fi
        grep -E '^#[0-9]+[[:space:]]+DONE' "$OUT/$target.log" | tail -n 1
        took "fuzz $target" "$s"
    done
}

for step in "${steps[@]}"; do
    case $step in
        c) run_c ;;
        python) run_python ;;
        fuzz) run_fuzz ;;
        *) echo "unknown step $step (c, python, fuzz)" >&2; exit 2 ;;
    esac
done
echo "== sanitize.sh: all clean"
