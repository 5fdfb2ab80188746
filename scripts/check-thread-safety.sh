#!/usr/bin/env bash
# Clang's thread-safety analysis over the whole tree: compiles every
# translation unit listed in build/compile_commands.json (CMake writes it)
# with `clang++ -fsyntax-only -Wthread-safety -Werror` and that file's own
# flags, in parallel. Fails, printing clang's diagnostics, when any file does
# not compile or breaks a lock annotation (common/mutex.h: GUARDED_BY,
# REQUIRES, ...). Generates no code, so it costs a parse of each file only.
# CI runs it after the main build (scripts/test.sh).
#
#   scripts/check-thread-safety.sh [BUILD_DIR]   (default: build)
#   LOADD_JOBS=N   parallel clang processes (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

build="${1:-build}"
db="$build/compile_commands.json"
jobs="${LOADD_JOBS:-$(nproc)}"
command -v clang++ >/dev/null || { echo "check-thread-safety: clang++ is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "check-thread-safety: python3 is not installed" >&2; exit 1; }
[ -f "$db" ] || { echo "check-thread-safety: no $db (configure with cmake first)" >&2; exit 1; }

# One NUL-terminated record per translation unit to check, shell-quoted:
# "directory file clang++ flags... file". The compiler (and a launcher such as
# ccache), -c and -o are replaced; flags only GCC knows are dropped. Only the
# files of the source tree that include common/mutex.h, directly or through
# the project's headers, are checked (the others have nothing to check, and
# parsing every file would double the cost); LOADD_TSA_ALL=1 checks all.
records() {
  python3 - "$db" "$PWD" "${LOADD_TSA_ALL:-0}" <<'EOF'
import json, os, re, shlex, sys

db, source_dir, check_all = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3] == "1"
build_dir = os.path.realpath(os.path.dirname(db))
include_re = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
includes = {}  # file -> the project files it includes
mutex_h = os.path.join(source_dir, "common", "mutex.h")

def Includes(path):
    if path not in includes:
        found = []
        try:
            text = open(path, errors="replace").read()
        except OSError:
            text = ""
        for name in include_re.findall(text):
            for base in (os.path.dirname(path), source_dir):
                cand = os.path.realpath(os.path.join(base, name))
                if os.path.isfile(cand):
                    found.append(cand)
                    break
        includes[path] = found
    return includes[path]

def SeesMutex(path):
    """True if path includes common/mutex.h through the project's headers."""
    seen, todo = {path}, [path]
    while todo:
        for inc in Includes(todo.pop()):
            if inc == mutex_h:
                return True
            if inc not in seen:
                seen.add(inc)
                todo.append(inc)
    return False

gcc_only = {"-fno-canonical-system-headers", "-Wlogical-op", "-Wduplicated-cond",
            "-Wduplicated-branches", "-Wuseless-cast", "-Wno-maybe-uninitialized"}
for entry in json.load(open(db)):
    path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
    if not path.startswith(source_dir + os.sep) or path.startswith(build_dir + os.sep):
        continue
    if not check_all and not SeesMutex(path):
        continue
    args = entry.get("arguments") or shlex.split(entry["command"])
    while args and os.path.basename(args[0]) in ("ccache", "sccache"):
        args = args[1:]
    flags, skip = [], False
    for a in args[1:]:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a == "-c" or a in gcc_only or os.path.realpath(
                os.path.join(entry["directory"], a)) == path:
            continue
        else:
            flags.append(a)
    # rapidjson 1.1's iterator comparisons are ambiguous in C++20 to Clang
    # (not to GCC); that is rapidjson's to fix, and not what this check is for.
    cmd = ["clang++", "-fsyntax-only", "-Wthread-safety", "-Werror", *flags,
           "-Wno-ambiguous-reversed-operator", path]
    rel = os.path.relpath(path, source_dir)
    sys.stdout.write(shlex.join([entry["directory"], rel, *cmd]) + "\0")
EOF
}

# Runs one record; prints clang's output under the file's name on failure.
check_one() {
  eval "set -- $1"
  local dir="$1" rel="$2" out
  shift 2
  if ! out=$(cd "$dir" && "$@" 2>&1); then
    printf 'check-thread-safety: FAILED %s\n%s\n' "$rel" "$out"
    return 1
  fi
}
export -f check_one

# The check must be able to fail: an access without the lock is an error.
probe=$(mktemp --suffix=.cc)
trap 'rm -f "$probe"' EXIT
cat >"$probe" <<'PROBE'
#include "common/mutex.h"
struct Probe {
  loadd::Mutex mu;
  int guarded GUARDED_BY(mu) = 0;
  int Read() { return guarded; }
};
PROBE
if clang++ -std=c++20 -I. -fsyntax-only -Wthread-safety -Werror "$probe" >/dev/null 2>&1; then
  echo "check-thread-safety: clang accepted an unlocked read of a GUARDED_BY member;" \
       "common/mutex.h's annotations are not in effect" >&2
  exit 1
fi

start=$(date +%s)
count=$(records | tr -cd '\0' | wc -c)
status=0
records | xargs -0 -n1 -P"$jobs" bash -c 'check_one "$1"' _ || status=$?
if [ "$status" -ne 0 ]; then
  echo "check-thread-safety: clang -Wthread-safety -Werror failed (see above)" >&2
  exit 1
fi
echo "check-thread-safety: $count files clean ($(( $(date +%s) - start )) s, $jobs jobs)"
