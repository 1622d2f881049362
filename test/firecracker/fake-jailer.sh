#!/bin/sh
# Stand-in for Firecracker's `jailer` (docs/jailer.md), for the tests: it builds the chroot where the real one
# does (<chroot-base-dir>/<exec-file name>/<id>/root), enters it and execs the Firecracker binary with the
# flags after `--`. It cannot chroot into a dir without Firecracker's own binary, so it tells the stand-in
# (FAKE_FC_CHROOT) to resolve absolute paths inside the root instead, and it keeps our uid. `exec` keeps
# the pid, as the real jailer's exec does.
set -eu
id='' exec_file='' base=/srv/jailer
while [ $# -gt 0 ]; do
  case "$1" in
    --id) id=$2; shift 2 ;;
    --exec-file) exec_file=$2; shift 2 ;;
    --uid|--gid) shift 2 ;;
    --chroot-base-dir) base=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "jailer: unsupported argument $1" >&2; exit 1 ;;
  esac
done
[ -n "$id" ] && [ -n "$exec_file" ] || { echo 'jailer: --id and --exec-file are required' >&2; exit 1; }
root="$base/$(basename "$exec_file")/$id/root"
mkdir -p "$root"
cd "$root"
FAKE_FC_CHROOT="$root" exec "$exec_file" "$@"
