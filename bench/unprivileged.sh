# Sourced by bench scripts: `unprivileged` is the command prefix that runs a benchmark
# the way users run services, without privilege: no CAP_SYS_NICE, RLIMIT_NICE 0, and as
# nobody when the script runs as root.
unprivileged=(prlimit --nice=0:0)
if [[ $(id -u) == 0 ]]; then
  unprivileged+=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all
                 --bounding-set=-all --no-new-privs)
else
  unprivileged+=(setpriv --inh-caps=-all --bounding-set=-all --no-new-privs)
fi
