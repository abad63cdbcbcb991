#!/usr/bin/env bash
# The fresh-machine check: builds a minimal Debian 12 root from Debian's packages (with
# this machine's apt sources), copies the checkout into it and runs the README's quick
# start commands there, exactly as the README writes them. A package that only this
# machine happens to have installed cannot hide a missing install step here.
#
#   bash .ci/fresh-root.sh      (as root; installs mmdebstrap when it is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
elapsed() { echo "$(( $(date +%s) - started )) s"; }

# The commands are read from the README's Quick start block, so the check can never
# drift from what a user is told to type.
mapfile -t commands < <(awk '
  /^## Quick start/ { section = 1; next }
  section && /^## / { exit }
  section && /^```sh/ { block = 1; next }
  block && /^```/ { exit }
  block { sub(/[ \t]*#.*$/, ""); if (length($0)) print }' README.md)
if ((${#commands[@]} != 2)); then
  echo "fresh-root: expected the README's two quick start commands, found ${#commands[@]}" >&2
  exit 1
fi

if ! command -v mmdebstrap >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

# This machine's Debian sources, whichever format they are kept in.
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [[ -s "$f" ]] && grep -qv '^[[:space:]]*\(#\|$\)' "$f" && sources+=("$f")
done
((${#sources[@]})) || { echo "fresh-root: no apt sources on this machine" >&2; exit 1; }

work=$(mktemp -d /var/tmp/weft-fresh-root.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
root="$work/root"
echo "fresh-root: building a minimal Debian 12 root in $root"
mmdebstrap --quiet --variant=apt bookworm "$root" "${sources[@]}"
echo "fresh-root: root ready after $(elapsed)"

# The checkout as git sees it (tracked and new files, nothing ignored such as build/).
mkdir "$root/weft"
git ls-files -z --cached --others --exclude-standard |
  tar --null -T - -cf - | tar -xf - -C "$root/weft"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# A private mount namespace: /proc, /sys and /dev vanish with it, whatever happens.
for cmd in "${commands[@]}"; do
  echo "fresh-root: running '$cmd'"
  unshare --mount --propagation private -- bash -c '
    set -e
    mount -t proc proc "$1/proc"
    mount --rbind /sys "$1/sys"
    mount --rbind /dev "$1/dev"
    exec chroot "$1" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
      TERM=dumb bash -c "cd /weft && $2"' _ "$root" "$cmd"
  echo "fresh-root: '$cmd' passed after $(elapsed)"
done
echo "fresh-root: both quick start commands passed on a fresh Debian 12 root in $(elapsed)"
