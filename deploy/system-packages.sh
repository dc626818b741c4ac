#!/usr/bin/env bash
# The Debian packages a make goal needs, installed where missing (the Makefile's bootstrap
# runs this first):
#   demo  Java 17 and Maven: the local Neo4j 5.26, which Maven fetches from Maven Central once
#   test  those, Prometheus (the metrics test), Chromium (the web page's browser test), and
#         SLURM 22.05 with munge (slurmctld, slurmd, the client: the research cluster's tests)
# As root it runs apt-get, otherwise sudo apt-get where sudo exists; failing both it prints
# the exact command to run and exits 1. Nothing comes from anywhere but Debian's archive.
set -euo pipefail

goal=${1:-}
if [ "$goal" != demo ] && [ "$goal" != test ]; then
    echo "usage: $0 demo|test" >&2
    exit 2
fi

# Java 17 or newer, found as the Neo4j launcher finds it: JAVA_HOME first, then PATH.
java_17() {
    local java=${JAVA_HOME:+$JAVA_HOME/bin/java}
    java=${java:-$(command -v java || true)}
    [ -n "$java" ] && [ -x "$java" ] || return 1
    local shown
    shown=$("$java" -version 2>&1) || return 1
    [[ $shown =~ version\ \"([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 17 ]
}

missing=()
java_17 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if [ "$goal" = test ]; then
    command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
        || missing+=(chromium)
    { command -v sbatch && command -v munge; } >/dev/null 2>&1 \
        || missing+=(slurmctld slurmd slurm-client munge)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

install="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "make $goal needs ${missing[*]} (Debian package names) and this system has no apt-get;" \
        "install them with its package manager, then run make again." >&2
    exit 1
fi
if [ "$(id -u)" = 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "make $goal needs Debian packages that are missing: ${missing[*]}." >&2
    echo "Run this as root, then run make again:" >&2
    echo "    $install" >&2
    exit 1
fi
echo "make $goal: installing ${missing[*]} from Debian's archive" >&2
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
if ! java_17; then
    echo "openjdk-17-jre-headless is installed but the java found first is older:" \
        "set JAVA_HOME=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture 2>/dev/null || echo amd64)" >&2
    exit 1
fi
