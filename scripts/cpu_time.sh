# Sourced by scripts/demo.sh and scripts/test.sh.
# count_cpu sets cpu_s to the CPU seconds (user + system) used so far by the
# sourcing shell's finished children: beside the wall time it shows how much a
# busy machine stretched a step. (`times` must run in that shell, not in a
# $(...).)
cpu_s=0
count_cpu() {
  local f
  f=$(mktemp)
  times >"$f"  # the second line: children's user and system time, "1m2.5s 0m3.1s"
  cpu_s=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, t, "m"); n += t[1] * 60 + t[2] }
               printf "%d\n", n }' "$f")
  rm -f "$f"
}
