#!/bin/sh
# Prints pkg-config flags for node-gyp; when a library is missing, fails the build
# with the Debian package that provides it (see scripts/install-debian-deps.sh).
mode="$1"; shift
for lib in "$@"; do
  if ! pkg-config --exists "$lib"; then
    case "$lib" in
      opus) pkg=libopus-dev ;;
      speexdsp) pkg=libspeexdsp-dev ;;
      spandsp) pkg=libspandsp-dev ;;
      liburing) pkg=liburing-dev ;;
      *) pkg="the development package of $lib" ;;
    esac
    echo "parley: the native media engine needs $lib; install it with: apt-get install $pkg" >&2
    exit 1
  fi
done
exec pkg-config "$mode" "$@"
