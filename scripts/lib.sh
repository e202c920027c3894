# Shared by the install scripts: run as root (or through sudo) and install Debian packages,
# refreshing the package lists once per machine boot.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "error: not root and sudo is missing; cannot run: $*" >&2; return 1
  fi
}

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: apt-get is not available; install these packages by hand: $*" >&2
    return 1
  fi
  if [ ! -f /tmp/.resotrack-apt-updated ]; then
    as_root apt-get update -qq && touch /tmp/.resotrack-apt-updated
  fi
  echo "installing: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}
