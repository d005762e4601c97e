#!/bin/sh
# Install the Debian packages magos-dominus needs to build, run and test
# (clang and libclang-rt-dev for the libFuzzer targets of `make fuzz`; gcc's
# own libasan/libubsan serve `make asan` and `make asan-unit`).
# Idempotent: checks what is missing with dpkg first and runs apt-get only
# when something is (one `apt-get update`, one install).
set -eu

PKGS="
gcc make pkg-config ca-certificates clang libclang-rt-dev
libcurl4-openssl-dev libgit2-dev libjansson-dev libyaml-dev libssl-dev
libcmocka-dev libpcre2-dev libmicrohttpd-dev
git docker-registry
python3 python3-pytest python3-flask python3-cryptography python3-jwt
podman podman-compose runc uidmap slirp4netns fuse-overlayfs containernetworking-plugins
busybox-static age skopeo prometheus systemd
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: everything is installed"
	exit 0
fi

echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
