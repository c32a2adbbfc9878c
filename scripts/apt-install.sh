#!/bin/sh
# Install Debian packages the project needs when they are missing: as root through
# apt-get, otherwise say which command to run. Usage: apt-install.sh COMMAND PACKAGE...
# (COMMAND is the program, or the absolute path of a file, whose presence means the
# package is there.)
set -e
command=$1
shift
case "$command" in
    /*) [ -e "$command" ] && exit 0 ;;
    *) command -v "$command" >/dev/null 2>&1 && exit 0 ;;
esac
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing $* (needed for $command) ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
else
    echo "$command is missing: run 'sudo apt-get install $*'" >&2
    exit 1
fi
