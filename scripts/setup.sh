#!/usr/bin/env bash
# Installs what msinet needs on Debian 12 (only what is missing), builds it if stale, and puts a
# few sample photographs in data/samples/.
#   scripts/setup.sh          runtime + build dependencies, Release build in build/
#   scripts/setup.sh --tests  also the test dependencies, and builds the tests
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--tests" ] && with_tests=1

packages=(build-essential cmake ninja-build ccache pkg-config ca-certificates
  libtorch-dev libopencv-dev libcli11-dev libyaml-cpp-dev libspdlog-dev libcurl4-openssl-dev
  libzip-dev libpng-dev libmatio-dev libsnappy-dev zlib1g-dev nlohmann-json3-dev libonnx-dev
  libcpp-httplib-dev opencv-doc liblemon-dev
  libdnnl-dev  # oneDNN used directly by the runtime's convolution plans and int8 inference
  libgloo-dev  # Gloo's headers and library: distributed training (src/dist) over c10d
  help2man)  # the man page, made from the help at build time
if [ "$with_tests" = 1 ]; then
  packages+=(googletest libgtest-dev python3 python3-numpy python3-scipy python3-h5py git
    clang-format clang-tidy clang libclang-rt-14-dev
    wrk ffmpeg)  # scripts/bench_serve.sh loads the server with wrk; bench_video.sh makes its clip with ffmpeg
  # Node.js runs the independent runtimes of the export tests (tests/node); any Node >= 18 will
  # do, so Debian's is installed only when there is none.
  command -v node > /dev/null || packages+=(nodejs)
  command -v npm > /dev/null || packages+=(npm)
  # Chromium, headless, runs the browser tests of the serve page (tests/browser).
  packages+=(chromium)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# Sample photographs from Debian's opencv-doc package (BSD licence), for the quick start.
samples=data/samples
if [ ! -d "$samples" ]; then
  src=/usr/share/doc/opencv-doc/examples/data
  mkdir -p "$samples.tmp"
  for f in fruits.jpg baboon.jpg building.jpg butterfly.jpg home.jpg messi5.jpg; do
    if [ -f "$src/$f" ]; then cp "$src/$f" "$samples.tmp/"; fi
    if [ -f "$src/$f.gz" ]; then gzip -dc "$src/$f.gz" > "$samples.tmp/$f"; fi
  done
  mv "$samples.tmp" "$samples"
fi

# The export tests' runtimes, pinned by tests/node/package-lock.json: ONNX Runtime and
# TensorFlow.js; and puppeteer-core, which drives Debian's Chromium in the browser tests (it
# downloads no browser of its own). --ignore-scripts: onnxruntime-node's install script only
# fetches optional CUDA libraries from outside the npm registry; its CPU runtime is in the
# package itself.
if [ "$with_tests" = 1 ]; then
  stamp=tests/node/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ tests/node/package-lock.json -nt "$stamp" ]; then
    echo "setup: installing the Node packages of tests/node" >&2
    npm ci --ignore-scripts --no-audit --no-fund --prefix tests/node >&2
  fi
fi

build_dir=${MSINET_BUILD_DIR:-build}
tests_flag=OFF
[ "$with_tests" = 1 ] && tests_flag=ON
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMSINET_BUILD_TESTS=$tests_flag >&2
cmake --build "$build_dir" -j"$(nproc)" >&2
