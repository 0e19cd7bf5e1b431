#!/usr/bin/env bash
# Install the cross toolchains and emulators that feagi_embed.targets runs (Debian 12 bookworm).
# Idempotent: re-running with everything installed is a quick no-op (apt-get update is skipped
# when every package is already present). No libc packages (picolibc/newlib): our HAL in
# firmware/hal/ is freestanding (-nostdlib), which saves ~1.4 GB.
set -euo pipefail
PKGS=(
  gcc                                   # native target + host side of the simavr harness / QEMU plugin
  gcc-arm-none-eabi qemu-system-arm     # stm32f4 (netduinoplus2 = STM32F405), rp2040 (size/Cortex-M0 class)
  gcc-riscv64-unknown-elf qemu-system-misc  # esp32c3 (rv32imc on qemu virt); qemu-system-misc also has xtensa
  gcc-xtensa-lx106                      # esp32/esp32s3 stand-in: lx106 on qemu-system-xtensa -M sim
  gcc-avr binutils-avr avr-libc simavr libsimavr-dev libelf-dev  # uno / mega2560 on libsimavr
  arduino-core-avr                      # the Arduino AVR core: builds the projects' framework = arduino sketch
  mesa-vulkan-drivers libvulkan1        # WGPU twin tests on the CPU (Mesa lavapipe Vulkan driver)
)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-toolchains: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-toolchains: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}"
