#!/usr/bin/env bash
# Sets this checkout up on Debian 12, idempotently: installs the Debian packages listed in
# scripts/debian-packages.txt that are missing (apt-get; sudo unless root), then the npm packages
# (npm ci, skipped while package.json and package-lock.json are what it last installed).
# --with-test-tools adds the packages only the tests need (.ci/run passes it).
set -euo pipefail
cd "$(dirname "$0")/.."

groups="tier"
case "${1:-}" in
    "") ;;
    --with-test-tools) groups="tier test" ;;
    *)
        echo "usage: bash scripts/setup.sh [--with-test-tools]" >&2
        exit 2
        ;;
esac

# Node.js comes from outside Debian 12 (it ships 18); nothing here downloads it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "setup: Node.js 20 and npm are needed (package.json engines: >=20 <23); install them, then run this again" >&2
    exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ] || [ "$node_major" -gt 22 ]; then
    echo "setup: Node.js $(node --version) found; package.json engines needs >=20 <23" >&2
    exit 1
fi

missing=()
while read -r package group _; do
    case " $groups " in *" $group "*) ;; *) continue ;; esac
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$package")
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/debian-packages.txt)

if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "setup: installing Debian packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "setup: Debian packages already installed ($groups)"
fi

stamp=node_modules/.receiver-tier-setup.sha256
if [ -f "$stamp" ] && sha256sum --check --status "$stamp" 2>/dev/null; then
    echo "setup: npm packages already installed"
else
    npm ci --no-audit --no-fund
    sha256sum package.json package-lock.json >"$stamp"
fi
