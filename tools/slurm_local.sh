#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for golf's `--launcher slurm` tests and for trying it by hand.
#
#   tools/slurm_local.sh up [DIR]     start munged, slurmctld and slurmd (as root); prints the lines to `eval`
#   tools/slurm_local.sh down [DIR]   stop the daemons `up` started (by the process ids it recorded)
#
# Everything lives under DIR (default /tmp/golf-slurm): the configuration, munge's key and socket, the
# daemons' state, logs and pid files. /etc/slurm and /etc/munge are left alone, so the cluster does not
# disturb anything else on the machine. Needs Debian's slurm-wlm and munge:
#   apt-get update && apt-get install -y slurm-wlm munge
set -euo pipefail

action="${1:-}"
dir="${2:-${GOLF_SLURM_DIR:-/tmp/golf-slurm}}"

die() { echo "slurm_local.sh: $*" >&2; exit 2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

stop() {
  # Only the processes this script started: their ids are in DIR/*.pid.
  local name pid
  for name in slurmd slurmctld munged; do
    [ -f "$dir/$name.pid" ] || continue
    pid="$(cat "$dir/$name.pid")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
}

start() {
  [ "$(id -u)" = 0 ] || die "run as root (slurmd starts jobs as their users)"
  for tool in munged mungekey slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || die "$tool not found: apt-get install -y slurm-wlm munge"
  done
  [ ! -f "$dir/slurmctld.pid" ] || die "$dir already holds a running cluster ($0 down $dir first)"
  mkdir -p "$dir"/{state,spool,log,munge}
  chmod 700 "$dir/munge"

  mungekey --create --force --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 \
    || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 600 "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" --log-file="$dir/log/munged.log" \
    </dev/null >"$dir/log/munged.out" 2>&1
  for _ in $(seq 50); do [ -s "$dir/munge/munged.pid" ] && break; sleep 0.1; done
  cp "$dir/munge/munged.pid" "$dir/munged.pid"

  # The node as the machine sees it (CPUs, sockets, memory), a little memory kept back for the system.
  local host node memory ctld_port d_port
  host="$(hostname -s)"
  node="$(slurmd -C | head -1)"
  memory="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")"
  node="$(sed "s/RealMemory=[0-9]*/RealMemory=$((memory * 9 / 10))/" <<<"$node")"
  ctld_port="${GOLF_SLURMCTLD_PORT:-$(free_port)}"
  d_port="${GOLF_SLURMD_PORT:-$(free_port)}"
  cat >"$dir/slurm.conf" <<EOF
ClusterName=golf
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.daemon.pid
SlurmdPidFile=$dir/slurmd.daemon.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MinJobAge=600
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -D -f "$SLURM_CONF" </dev/null >"$dir/log/slurmctld.out" 2>&1 &
  echo $! >"$dir/slurmctld.pid"
  slurmd -D -f "$SLURM_CONF" </dev/null >"$dir/log/slurmd.out" 2>&1 &
  echo $! >"$dir/slurmd.pid"

  # Up when the node is idle in the partition.
  local state=""
  for _ in $(seq 120); do
    state="$(sinfo -h -n "$host" -o %t 2>/dev/null || true)"
    [ "$state" = idle ] && break
    sleep 0.5
  done
  if [ "$state" != idle ]; then
    echo "slurm_local.sh: the node did not come up (state: ${state:-none}); logs in $dir/log" >&2
    tail -n 20 "$dir"/log/*.log >&2 || true
    stop
    exit 1
  fi
  echo "export SLURM_CONF=$dir/slurm.conf"
  echo "export GOLF_SLURM_CLUSTER=$dir"
}

case "$action" in
  up) start ;;
  down) stop ;;
  *) die "usage: $0 up|down [DIR]" ;;
esac
