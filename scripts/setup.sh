#!/usr/bin/env bash
# Installs the Debian 12 packages dbkit needs to build and test, if missing.
# Run as root (make demo / make test call it); does nothing when all are present.
set -euo pipefail
# The second line: tools the tests use (tests/e2e, tests/faults): node and npm (the real
# drizzle migrator), jq, bc, GNU time (/usr/bin/time), python3, pgbouncer (deploys through a pooler).
pkgs=(build-essential cmake pkg-config postgresql-15 postgresql-server-dev-15 postgresql-client-15 libpq-dev libssl-dev
      libfmt-dev libcli11-dev nlohmann-json3-dev libgtest-dev googletest
      jq bc time python3 python3-yaml pgbouncer
      libcpp-httplib-dev chromium)  # dbkit studio: its HTTP server; its browser tests
# node and npm may come from elsewhere (nodesource's nodejs bundles npm, and conflicts
# with Debian's npm package): only when a command is missing is Debian's package added.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
# The tests run the client as `nobody` (unreadable files); Debian has it, minimal images may not.
if ! id nobody >/dev/null 2>&1; then
	if [[ $(id -u) -ne 0 ]]; then
		echo "dbkit setup: the tests need a user named nobody; run as root or: sudo useradd -r -M -s /usr/sbin/nologin nobody" >&2
		exit 1
	fi
	useradd -r -M -d /nonexistent -s /usr/sbin/nologin nobody
	echo "dbkit setup: created user nobody"
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]]; then
	echo "dbkit setup: missing packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "dbkit setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Debian's postgresql-common would create and start a system cluster: dbkit never uses it.
mkdir -p /etc/postgresql-common
if [[ ! -f /etc/postgresql-common/createcluster.conf ]] || ! grep -q '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
	echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "dbkit setup: done"
