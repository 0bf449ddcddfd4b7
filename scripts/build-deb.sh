#!/usr/bin/env bash
# make deb: the Debian packages postgresql-15-dbkit (the extension) and dbkit (the client), built with
# debhelper from debian/. dpkg-buildpackage writes its results next to the source directory, so the
# tree (tracked and new files, not build/ or other ignored files) is copied to OUT/src first; the
# .deb files end up in OUT. As root, installs what the build needs (Build-Depends) with apt-get.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$here/build/deb}" && cd "${1:-$here/build/deb}" && pwd)

need_root() {
	if [[ $(id -u) -ne 0 ]]; then
		echo "make deb: missing Debian packages: $*; run as root or: sudo apt-get install -y $*" >&2
		exit 1
	fi
}
apt_install() {
	need_root "$@"
	echo "make deb: installing $*"
	export DEBIAN_FRONTEND=noninteractive
	if [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -print -quit 2>/dev/null) ]]; then
		apt-get update -qq
	fi
	apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

# The tools first (dpkg-checkbuilddeps is in dpkg-dev), then whatever debian/control's Build-Depends lists.
tools=()
for p in dpkg-dev debhelper build-essential; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || tools+=("$p")
done
((${#tools[@]} == 0)) || apt_install "${tools[@]}"
if ! unmet=$(cd "$here" && dpkg-checkbuilddeps 2>&1); then
	# "dpkg-checkbuilddeps: error: Unmet build dependencies: a (>= 1) b" -> a b
	# (first alternative of "a | b"; architecture qualifiers [..] and <..> profiles dropped)
	pkgs=$(sed -n 's/.*Unmet build dependencies: //p' <<<"$unmet" |
		sed -E 's/\([^)]*\)//g; s/\[[^]]*\]//g; s/<[^>]*>//g; s/\|[[:space:]]*[^[:space:]|]+//g')
	[[ -n $pkgs ]] || { echo "$unmet" >&2; exit 1; }
	# shellcheck disable=SC2086
	apt_install $pkgs
fi

version=$(cd "$here" && dpkg-parsechangelog -S Version)
src="$out/src/dbkit-$version"
rm -rf "$out/src" "$out"/*.deb "$out"/*.ddeb "$out"/*.buildinfo "$out"/*.changes
mkdir -p "$src"
(cd "$here" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -xf - -C "$src"

echo "make deb: building dbkit $version in $src"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=${DEB_JOBS:-2} ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1) ||
	{ tail -n 40 "$out/build.log" >&2; echo "make deb: dpkg-buildpackage failed; full log: $out/build.log" >&2; exit 1; }
mv "$out"/src/*.deb "$out"/src/*.buildinfo "$out"/src/*.changes "$out"/ 2>/dev/null || true
mv "$out"/src/*.ddeb "$out"/ 2>/dev/null || true
ls "$out"/*.deb
