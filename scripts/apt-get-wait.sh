# Sourced by scripts/install.sh. apt_get ARGS...: `$sudo apt-get ARGS...` (non-interactive) that, when another
# apt/dpkg process (unattended-upgrades, a second install) holds the dpkg or apt-lists lock, says so and waits for it
# instead of failing: retries every APT_LOCK_POLL_S seconds (default 10) for at most APT_LOCK_WAIT_S seconds
# (default 600), then fails with apt's own lock error and what to do. Any other apt error fails at once.
apt_get() {
  local started=$SECONDS limit="${APT_LOCK_WAIT_S:-600}" poll="${APT_LOCK_POLL_S:-10}" log status waited holder
  log="$(mktemp)"
  while true; do
    status=0
    DEBIAN_FRONTEND=noninteractive ${sudo:-} apt-get -o DPkg::Lock::Timeout="$poll" "$@" 2>"$log" || status=$?
    waited=$((SECONDS - started))
    if ((status == 0)); then
      cat "$log" >&2
      rm -f "$log"
      return 0
    fi
    if ! grep -qiE "could not get lock|unable to acquire the dpkg frontend lock|is another process using it" "$log"; then
      cat "$log" >&2
      rm -f "$log"
      return "$status"
    fi
    if ((waited >= limit)); then
      cat "$log" >&2
      rm -f "$log"
      echo "install.sh: another apt/dpkg process still holds the lock after ${waited} s; run scripts/install.sh again when it has finished (APT_LOCK_WAIT_S sets how long to wait)" >&2
      return "$status"
    fi
    holder="$(grep -ioE "held by process [0-9]+( \([^)]*\))?" "$log" | head -1 || true)"
    echo "install.sh: another apt/dpkg process holds the lock${holder:+ (${holder})}; waiting for it (${waited} s of at most ${limit} s)" >&2
    sleep "$poll"
  done
}
