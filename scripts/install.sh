#!/usr/bin/env bash
# Installs everything the project needs on a Debian machine with Node.js 20 (>= 20.19):
#   - Debian packages: Jupyter + nbconvert + ipykernel for /usr/bin/python3 (runs the notebooks), Chromium (checks the
#     HTML reports render offline), numpy + Cython + gcc (the tests build pycocotools, the COCOeval reference),
#     dataset-fashion-mnist (the Fashion-MNIST IDX files, read in place by lib/data), Optuna + psycopg2 (the tests open
#     lib/tune's studies with Optuna itself) and PostgreSQL (the tuning-storage tests run a throw-away server); with
#     --bench also PyTorch, the reference implementation in bench/.
#   - npm packages exactly as locked (npm ci).
#   - the project's tslab kernel, registered project-locally in .jupyter/ (no change to your global Jupyter).
# Safe to re-run: apt only runs when a package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(jupyter-notebook jupyter-nbconvert jupyter-client python3-ipykernel chromium)
# The COCOeval tests build pycocotools (the reference) from source in a temporary folder: numpy, Cython, a C compiler.
packages+=(python3-numpy cython3 python3-dev gcc libc6-dev)
# Fashion-MNIST (IDX files in /usr/share/datasets/fashion-mnist), a second real classification dataset.
packages+=(dataset-fashion-mnist)
# lib/tune's storage tests: Optuna itself (and psycopg2 to reach PostgreSQL) reads our studies; a throw-away PostgreSQL.
packages+=(python3-optuna python3-psycopg2 postgresql)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3-torch python3-torchvision)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# apt_get: apt-get that waits for another apt/dpkg process's lock instead of failing (scripts/apt-get-wait.sh).
source scripts/apt-get-wait.sh

if ((${#missing[@]})); then
  sudo=""
  if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
  echo "Installing Debian packages: ${missing[*]}"
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${missing[@]}"
fi

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20 || (a===20 && b<19)) { console.error("Node.js >= 20.19 is needed (found " + process.version + ")"); process.exit(1) }'
npm ci --no-fund --no-audit
npx tsx scripts/install-kernel.ts
