#!/usr/bin/env bash
# A single-node SLURM cluster on 127.0.0.1 with two fake GPUs, from Debian's packages, so that
# tests (and anyone curious) can run the workflow through the real sbatch/squeue.
#   tests/slurm/start_cluster.sh install   # apt-get install slurmctld slurmd slurm-client munge
#   tests/slurm/start_cluster.sh start     # write the config, start munged/slurmctld/slurmd
#   tests/slurm/start_cluster.sh stop      # stop them again
# Needs root. The partition is "debug"; the GPUs are gres "gpu:fake" backed by /dev/null.
set -euo pipefail

NODE="$(hostname -s)"
CONF_DIR=/etc/slurm
STATE_DIR=/var/spool/slurm-reprolab
LOG_DIR=/var/log/slurm-reprolab

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return 0
    fi
    # apt's post-install scripts would start the daemons with a default config: forbid that
    # while installing, and restore whatever policy was there before.
    local policy=/usr/sbin/policy-rc.d saved=""
    if [ -e "$policy" ]; then saved="$(mktemp)"; cp -p "$policy" "$saved"; fi
    # shellcheck disable=SC2064
    trap "if [ -n '$saved' ]; then mv '$saved' '$policy'; else rm -f '$policy'; fi" EXIT
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    export DEBIAN_FRONTEND=noninteractive
    # Wait for another apt (unattended upgrades, a parallel job) instead of failing.
    local apt=(apt-get -o DPkg::Lock::Timeout=600 -qq)
    "${apt[@]}" update
    "${apt[@]}" install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

write_config() {
    mkdir -p "$CONF_DIR" "$STATE_DIR/ctld" "$STATE_DIR/d" "$LOG_DIR"
    # squeue is the status command (no slurmdbd, so no sacct): finished jobs must stay visible
    # to it for a while, hence MinJobAge: longer than the whole smoke suite takes through SLURM
    # (over 10 minutes here), since the test reads every job's record after the run.
    cat >"$CONF_DIR/slurm.conf" <<CONF
ClusterName=reprolab
SlurmctldHost=${NODE}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=7200
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/d
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
GresTypes=gpu
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=8000 Gres=gpu:fake:2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    # A GPU line needs a character device, or the node drains as INVALID.
    cat >"$CONF_DIR/gres.conf" <<CONF
NodeName=${NODE} Name=gpu Type=fake File=/dev/null
NodeName=${NODE} Name=gpu Type=fake File=/dev/zero
CONF
}

start() {
    write_config
    mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
    [ -s /etc/munge/munge.key ] || mungekey -c -k /etc/munge/munge.key
    pgrep -x munged >/dev/null || munged --force
    pgrep -x slurmctld >/dev/null || slurmctld
    pgrep -x slurmd >/dev/null || slurmd
    for _ in $(seq 60); do
        state="$(sinfo -h -o %T 2>/dev/null || true)"
        if [ "$state" = idle ] || [ "$state" = mixed ]; then
            srun -N1 -t 1 true
            echo "SLURM is up: node $NODE $state, partition debug, gres gpu:fake:2"
            return 0
        fi
        sleep 1
    done
    echo "SLURM did not become idle (state: ${state:-none}); see $LOG_DIR" >&2
    return 1
}

stop() {
    scontrol shutdown 2>/dev/null || true
    for _ in $(seq 20); do
        pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || break
        sleep 0.5
    done
    if [ -s /run/munge/munged.pid ]; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; fi
}

case "${1:-}" in
    install) install ;;
    start)
        install
        start
        ;;
    stop) stop ;;
    *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
