# Sourced by bench/compare.sh and bench/parity.sh: the results log (bench/results/, one file per
# UTC date and script, newest run last).
#
#   results_log_entry NAME   # with RESULTS_LOG, RUN_DATE, RUN_TIME, THREADS set: makes
#                            # $RESULTS_LOG/$RUN_DATE-NAME.md if new (a title line), appends this
#                            # run's heading (time, commit, uncommitted changes) and machine line,
#                            # and sets log_file to it; the caller appends its settings and tables.
results_log_entry() {
  local name=$1 rev cpu
  mkdir -p "$RESULTS_LOG"
  log_file="$RESULTS_LOG/$RUN_DATE-$name.md"
  rev=$(git rev-parse --short HEAD 2>/dev/null || echo "outside git")
  if [ "$rev" != "outside git" ] && ! git diff --quiet HEAD -- crates bench ':(exclude)bench/results' Cargo.toml Cargo.lock; then
    rev="$rev + uncommitted changes in crates/, bench/ or Cargo.*"
  fi
  cpu=$( (lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1) || true)
  [ -s "$log_file" ] || printf '# %s: bench/%s.sh runs\n\nAppended by `bench/%s.sh` at the end of each run, newest last.\n' "$RUN_DATE" "$name" "$name" > "$log_file"
  {
    printf '\n## %s UTC, %s\n\n' "$RUN_TIME" "$rev"
    printf 'Machine: %s, nproc %s, threads used %s; load average at the end: %s.\n' \
      "${cpu:-unknown CPU}" "$(nproc)" "$THREADS" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
  } >> "$log_file"
}
