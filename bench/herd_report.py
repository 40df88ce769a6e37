#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tables and plots for the recovery experiment (bench/herd.sh).

    herd_report.py RAW_DIR OUT_DIR [NAME]

NAME is recovery (the default: recovery.md, herd_*.png) or shared (the
HERD_SET=shared run of herd.sh: shared.md, shared_*.png), so both sets of
results live side by side in OUT_DIR.

Reads RAW_DIR/strategies.txt and RAW_DIR/D*_N*/{meta,syns.txt,*.clients};
writes OUT_DIR/recovery.md, OUT_DIR/recovery_summary.tsv, the plot data
(OUT_DIR/data/*.dat) and the PNGs (gnuplot).

Definitions (also printed into recovery.md):
  up          the instant `nft flush` returned, after which the service
              answers SYNs again (the flush itself takes ~20 ms; times are
              clipped at 0)
  ttc         time from up to a client's successful connect(), in ms
  attempts    connect tries seen by the server: distinct (source port, ISN)
              SYNs to the strategy's port, over the whole run
  peak/100ms  the most SYNs in one 100 ms bin after up (the herd)
  ok          clients connected within 60 s of their start
"""
import glob
import math
import os
import subprocess
import sys

RAW, OUT = sys.argv[1], sys.argv[2]
NAME = sys.argv[3] if len(sys.argv) > 3 else "recovery"
PFX = "" if NAME == "recovery" else NAME + "_"      # data and plot file names
PNG = "herd_" if NAME == "recovery" else NAME + "_"
DATA = os.path.join(OUT, "data")
os.makedirs(DATA, exist_ok=True)
SETS = ("shared_", "real_")                         # the other sets' prefixes
for old in glob.glob(os.path.join(DATA, "*.dat")):     # the previous run's
    base = os.path.basename(old)
    if base.startswith(PFX) if PFX else not base.startswith(SETS):
        os.remove(old)
REAL = NAME.startswith("real")      # HERD_SET=real: python, node, curl processes


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)]


strats = []
for line in open(os.path.join(RAW, "strategies.txt")):
    if line.startswith("#") or not line.strip():
        continue
    sid, kind, pre, pol, port = line.rstrip("\n").split("|")
    strats.append(dict(id=sid, kind=kind, hostup=pre in ("yes", "shared"), shared=pre == "shared",
                       policy=pol, port=int(port)))


def label(s):
    if s["kind"].startswith("r-"):
        return "%s, N processes, hostup %s, %s" % (
            {"r-py": "python create_connection(timeout=40)", "r-node": "node http.get",
             "r-curl": "curl --connect-timeout 40"}.get(s["kind"], s["kind"]),
            "`%s`" % s["policy"] if s["policy"] else "defaults",
            "shared state" if s["shared"] else "HOSTUP_SHARED=off")
    procs = " (N processes)" if s["kind"].startswith("p-") else ""
    if not s["hostup"]:
        return {"once": "no retry", "app3": "app loop: 3 tries, sleep 1 s x try",
                "poll1s": "poll every 1 s (wait-for-it)"}[s["kind"].replace("p-", "")] + procs
    return "hostup `%s`%s%s" % (s["policy"] or "(defaults)",
                                ", shared state" if s["shared"] else ", HOSTUP_SHARED=off", procs)


def load_run(d):
    """One run of one cell: per strategy, the clients' results and the SYNs."""
    D, N, start, up0, up1 = (int(x) for x in open(os.path.join(d, "meta")).read().split())
    syns, accepts, drops = {}, {}, 0
    for line in open(os.path.join(d, "syns.txt")):
        if line.startswith("# drops"):
            drops = int(line.split()[2])
            continue
        ns, port, sport, seq, kind = line.split()
        if kind == "2":
            accepts.setdefault(int(port), []).append(int(ns))
        else:
            syns.setdefault(int(port), []).append((int(ns), int(sport), int(seq)))
    rows = []
    for i, s in enumerate(strats):
        cl = [l.split() for l in open(os.path.join(d, "%d.clients" % i)) if l.strip()]
        ok = [c for c in cl if c[1] == "1"]
        false_ok = sum(1 for c in cl if c[5] == "false-success")
        ttc = [max(0.0, (int(c[3]) - up1) / 1e6) for c in ok]
        early = sum(1 for c in ok if int(c[3]) < up0)     # connected while down: must be 0
        sy = sorted(syns.get(s["port"], []))
        tries = len({(sp, sq) for _, sp, sq in sy})
        down_syns = sum(1 for ns, _, _ in sy if ns < up0)
        bins, down_bins = {}, {}
        for ns, _, _ in sy:
            if ns >= up1:
                k = (ns - up1) // 100_000_000
                bins[k] = bins.get(k, 0) + 1
            elif start <= ns < up0:
                k = (ns - start) // 100_000_000
                down_bins[k] = down_bins.get(k, 0) + 1
        acc = accepts.get(s["port"], [])
        rows.append(dict(s=s, n=len(cl), ok=len(ok), early=early, false_ok=false_ok, accepted=len(acc),
                         accepted_early=sum(1 for t in acc if t < up0), ttc=ttc, tries=tries,
                         peak=max(bins.values(), default=0), down_peak=max(down_bins.values(), default=0),
                         down_syns=down_syns,
                         raw=sy))
    return dict(D=D, N=N, up0=up0, up1=up1, drops=drops, rows=rows)


# the runs of each cell, pooled: clients and tries add up, peaks are the
# highest of any run; the plots of SYNs over time show the first run
runs = {}
for d in glob.glob(os.path.join(RAW, "D*_N*_r*")):
    D, N, rep = (int(x) for x in os.path.basename(d)[1:].replace("_N", " ").replace("_r", " ").split())
    runs.setdefault((D, N), []).append((rep, load_run(d)))
cells = []
for (D, N), rr in sorted(runs.items()):
    rr = [r for _, r in sorted(rr, key=lambda x: x[0])]
    rows = []
    for i, s in enumerate(strats):
        per = [r["rows"][i] for r in rr]
        row = dict(s=s, raw=per[0]["raw"], ttc=[t for p in per for t in p["ttc"]])
        for k in ("n", "ok", "early", "false_ok", "accepted", "accepted_early", "tries", "down_syns"):
            row[k] = sum(p[k] for p in per)
        for k in ("peak", "down_peak"):
            row[k] = max(p[k] for p in per)
        rows.append(row)
    cells.append(dict(D=D, N=N, reps=len(rr), up1=rr[0]["up1"], drops=sum(r["drops"] for r in rr), rows=rows))


def f_ms(x):
    return "-" if x is None else ("%.0f" % x)


# ---- recovery.md ------------------------------------------------------------
md = []
w = md.append
if REAL:
    w("# Herd control for event-loop clients: python, node and curl processes, shared state against off")
    w("")
    w("Command: `HERD_SET=real HERD_REAL=KIND bash bench/herd.sh` then `python3 bench/herd_report.py RAW "
      "bench/results real_KIND`. Every client is a separate process (`bench/herd_clients.py`) making one "
      "non-blocking connect and waiting in poll or epoll, under `LD_PRELOAD` with the built-in defaults "
      "(or `HERD_POLICY`, named in each row). "
      "(The notes below on loops and blocking `connect()` are the common text of the herd bench.)")
elif NAME == "shared":
    w("# Herd control across processes: shared state against per-process retries")
    w("")
    w("Command: `HERD_SET=shared bash bench/herd.sh` then `python3 bench/herd_report.py RAW bench/results shared`. "
      "Every strategy runs as N separate processes of one client each (`herd client p-...`).")
else:
    w("# Recovery when something fails")
    w("")
    w("Command: `bash bench/herd.sh` then `python3 bench/herd_report.py` (both run by `make bench`).")
w("")
w("A service in one network namespace is down for D s while N clients in another try to "
  "connect; all clients start together 0.5 s after the service went down (so a fixed schedule "
  "such as a try every second is not aligned with the instant it comes back) and have 60 s. While down, every "
  "SYN is answered with ICMP host-unreachable (`connect()` fails with `EHOSTUNREACH`). All "
  "strategies run at once, each on its own port, against the same outage. hostup strategies are "
  "one blocking `connect()` under `LD_PRELOAD`, records on (to a file); the others are the "
  "client's own loops without hostup, a fresh socket per try.")
w("")
w("- **ok**: clients connected within 60 s. **ttc**: time from service-up to the client's "
  "successful `connect()` (median / p99 / max, ms; successful clients only). **tries**: connect "
  "tries the server saw (distinct SYNs), in total and per client. **peak/100ms**: the most SYNs "
  "in one 100 ms bin after service-up (the herd). **down peak**: the same during the outage.")
w("- **false success**: `connect()` returned 0 but the socket was not connected (`TCP_INFO` state "
  "not ESTABLISHED/CLOSE_WAIT); such a client counts as failed. Every success is checked this way, "
  "and against the server's accepted connections.")
w("- **ICMP from user space.** While down, nftables drops the SYNs and `bench/herd serve` answers "
  "each with ICMP host-unreachable from a raw socket. nftables' own `reject` answers within the "
  "client's `connect()` call, between two namespaces of one machine, while the socket is locked: "
  "the kernel keeps that as a soft error and retransmits the SYN a second later, so every failed "
  "try would last 1 s, which is not what a client sees from a real network.")
w("- **false success** was a hostup defect this benchmark found in an earlier run (0-7 %% of "
  "retried clients): the blocking retry took `poll()` ready plus `SO_ERROR` 0 as connected while "
  "the socket was in TCP_CLOSE. The retry now asks `TCP_INFO` (`shim/wrap/connect.c`); this "
  "column shows it stays at 0.")
w("- service-up is the instant the `nft flush` that re-opens the ports returned; times before "
  "it (within the ~20 ms the flush takes) count as 0.")
w("- hostup defaults (`hu-defaults`): `attempts=40 backoff=200ms..2s multiplier=2 jitter=equal "
  "deadline=30s`, chosen from this benchmark; `hu-old-defaults` are the ones they replaced. The "
  "other policies are spelled out in full. `attempts=1000` lifts the attempts bound so only the "
  "30 s deadline ends the retries.")
w("")
# herd control: SYNs during the outage and recovery, shared state against off
byid = {}
for c in cells:
    for r in c["rows"]:
        byid[(c["D"], c["N"], r["s"]["id"])] = r
if NAME == "shared" or REAL:
    w("- **SYNs during the outage**: SYNs the server saw before service-up (each a try), all clients together; "
      "**vs off**: that count over the same count of hostup with `HOSTUP_SHARED=off` (target: at most 0.25 "
      "at N = 200). **p99 after up**: target at most 500 ms.")
    w("")
    w("| D | N | strategy | ok | SYNs during the outage | vs off | ttc p50 | p99 | max | tries per client | peak SYNs/100ms after up |")
    w("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in cells:
        for r in c["rows"]:
            off = byid.get((c["D"], c["N"], r["s"]["id"].replace("-shared", "-off")))
            ratio = "%.2f" % (r["down_syns"] / off["down_syns"]) if off and off["down_syns"] else "-"
            w("| %d | %d | %s | %d/%d | %d | %s | %s | %s | %s | %.1f | %d |" % (
                c["D"], c["N"], r["s"]["id"], r["ok"], r["n"], r["down_syns"] / c["reps"], ratio,
                f_ms(pct(r["ttc"], 50)), f_ms(pct(r["ttc"], 99)), f_ms(max(r["ttc"], default=None)),
                r["tries"] / max(1, r["n"]), r["peak"]))
    w("")
# before and after: the shipped defaults against the proposed ones, every cell
for c in cells:
    for r in c["rows"]:
        byid[(c["D"], c["N"], r["s"]["id"])] = r
pair = [sid for sid in ("hu-old-defaults", "hu-defaults") if any(k[2] == sid for k in byid)]
if len(pair) == 2:
    old = next(s_["policy"] for s_ in strats if s_["id"] == "hu-old-defaults")
    w("## Before and after: the old defaults and the current ones")
    w("")
    w("before: the defaults this experiment replaced, `%s`; after: the built-in defaults "
      "(attempts=40 backoff=200ms..2s jitter=equal deadline=30s)." % old)
    w("")
    w("| D | N | | ok | false success | ttc median | p99 | max | tries per client | peak/100ms after up |")
    w("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in cells:
        for sid, name in (("hu-old-defaults", "before"), ("hu-defaults", "after")):
            r = byid[(c["D"], c["N"], sid)]
            w("| %d | %d | %s | %d/%d | %d | %s | %s | %s | %.1f | %d |" % (
                c["D"], c["N"], name, r["ok"], r["n"], r["false_ok"], f_ms(pct(r["ttc"], 50)),
                f_ms(pct(r["ttc"], 99)), f_ms(max(r["ttc"], default=None)), r["tries"] / max(1, r["n"]),
                r["peak"]))
    w("")

for c in cells:
    w("## D = %d s, N = %d (%d runs pooled: %d clients)" % (c["D"], c["N"], c["reps"], c["N"] * c["reps"]))
    w("")
    if c["drops"]:
        w("(the SYN counter missed %d packets)" % c["drops"])
        w("")
    w("| strategy | ok | false success | ttc median | p99 | max | tries per run (per client) | peak/100ms after up | down peak/100ms |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in c["rows"]:
        w("| %s | %d/%d | %d | %s | %s | %s | %.0f (%.1f) | %d | %d |" % (
            label(r["s"]), r["ok"], r["n"], r["false_ok"], f_ms(pct(r["ttc"], 50)), f_ms(pct(r["ttc"], 99)),
            f_ms(max(r["ttc"], default=None)), r["tries"] / c["reps"], r["tries"] / max(1, r["n"]), r["peak"],
            r["down_peak"]))
        if r["early"] or r["accepted_early"] or r["accepted"] < r["ok"]:
            w("| (check: %d connected before service-up, %d accepted before it, %d accepted in all) | | | | | | | | |"
              % (r["early"], r["accepted_early"], r["accepted"]))
    w("")

# one line per strategy and cell, for scripts and the README
with open(os.path.join(OUT, NAME + "_summary.tsv"), "w") as f:
    f.write("D\tN\tstrategy\tok\tn\tfalse_success\tttc_median_ms\tttc_p99_ms\tttc_max_ms\ttries_per_client\tpeak_per_100ms\n")
    for c in cells:
        for r in c["rows"]:
            f.write("%d\t%d\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%.2f\t%d\n" % (
                c["D"], c["N"], r["s"]["id"], r["ok"], r["n"], r["false_ok"], f_ms(pct(r["ttc"], 50)),
                f_ms(pct(r["ttc"], 99)), f_ms(max(r["ttc"], default=None)), r["tries"] / max(1, r["n"]),
                r["peak"]))

# ---- plots -------------------------------------------------------------------
def gnuplot(script):
    subprocess.run(["gnuplot"], input=script.encode(), check=True)

if REAL:        # tables only
    open(os.path.join(OUT, NAME + ".md"), "w").write("\n".join(md) + "\n")
    print("bench: wrote %s/%s.md" % (OUT, NAME), file=sys.stderr)
    sys.exit(0)

plots = []
big = max(c["N"] for c in cells)
for c in cells:
    if c["N"] != big:
        continue
    D, N = c["D"], c["N"]
    lo, hi = -min(D, 5) * 10, 120      # 100 ms bins around up
    dat = os.path.join(DATA, PFX + "attempts_D%d_N%d.dat" % (D, N))
    with open(dat, "w") as f:
        f.write("# SYNs per 100 ms; time in s since service-up (bin start); one column per strategy\n")
        f.write("# t " + " ".join(r["s"]["id"] for r in c["rows"]) + "\n")
        counts = []
        for r in c["rows"]:
            h = {}
            for ns, _, _ in r["raw"]:
                k = math.floor((ns - c["up1"]) / 1e8)
                h[k] = h.get(k, 0) + 1
            counts.append(h)
        for k in range(lo, hi):
            f.write("%.1f %s\n" % (k / 10, " ".join(str(h.get(k, 0)) for h in counts)))
    n = len(c["rows"])
    cols = 3
    rws = math.ceil(n / cols)
    png = PNG + "attempts_D%d_N%d.png" % (D, N)
    ymax = max(max((h.get(k, 0) for k in range(lo, hi)), default=1) for h in counts)
    g = ['set terminal pngcairo size 1500,%d font "sans,9"' % (200 * rws + 60),
         'set output "%s"' % os.path.join(OUT, png),
         'set multiplot layout %d,%d title "SYNs per 100 ms around service-up: %d clients, service down %d s (first run; line: service up)" font "sans,12"' % (rws, cols, N, D),
         "set style fill solid 0.6 noborder", "set boxwidth 0.1", "set xrange [%g:%g]" % (lo / 10, hi / 10),
         "set yrange [0:%d]" % (ymax * 1.1 + 1), "set grid ytics", "unset key",
         'set arrow 1 from 0, graph 0 to 0, graph 1 nohead lc rgb "red" dt 2',
         "set xtics 2", "set lmargin 6"]
    for i, r in enumerate(c["rows"]):
        g.append('set title "%s" noenhanced' % r["s"]["id"])
        g.append('plot "%s" using ($1+0.05):%d with boxes lc rgb "#3060a0"' % (dat, i + 2))
    g.append("unset multiplot")
    gnuplot("\n".join(g) + "\n")
    plots.append((png, "SYNs per 100 ms around service-up, %d clients, %d s outage" % (N, D)))

# time-to-connect: share of all N clients connected vs seconds since up
pick_a = ["app-3-tries", "poll-1s", "hu-old-defaults", "hu-defaults", "hu-none-8s-a1000", "hu-full-8s-a1000",
          "hu-equal-8s-a1000", "hu-decorr-8s-a1000"]
pick_b = ["hu-full-1s-a1000", "hu-full-2s-a1000", "hu-full-4s-a1000", "hu-full-8s-a1000",
          "hu-none-2s-a1000", "hu-equal-2s-a1000", "hu-decorr-2s-a1000"]
extra = [s["id"] for s in strats if s["id"] not in pick_a + pick_b and s["kind"] == "once" and s["hostup"]
         and s["id"] not in ("hu-equal-8s", "hu-decorr-8s", "hu-none-8s")]
pick_b += extra
panels = (("jitters at 200ms..8s, and the app loops", pick_a),
          ("caps with full jitter; jitters at 200ms..2s", pick_b))
if NAME == "shared":
    panels = (("every strategy, N processes", [s_["id"] for s_ in strats]),
              ("hostup defaults: shared state and HOSTUP_SHARED=off", [s_["id"] for s_ in strats if s_["hostup"]]))
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf"]
bigc = [c for c in cells if c["N"] == big]
png = PNG + "ttc_N%d.png" % big
g = ['set terminal pngcairo size 1400,%d font "sans,9"' % (330 * len(bigc) + 40),
     'set output "%s"' % os.path.join(OUT, png),
     'set multiplot layout %d,2 title "Share of %d clients connected vs time since service-up (failures never reach 1)" font "sans,12"' % (len(bigc), big),
     "set xrange [0:8]", "set yrange [0:1.02]", "set grid", "set key right bottom noenhanced",
     "set xlabel \"s since service-up\""]
for c in bigc:
    for title, pick in panels:
        parts = []
        for r in c["rows"]:
            if r["s"]["id"] not in pick:
                continue
            dat = os.path.join(DATA, PFX + "ttc_D%d_N%d_%s.dat" % (c["D"], c["N"], r["s"]["id"].replace("*", "x")))
            with open(dat, "w") as f:
                f.write("# s since up, share of all %d clients connected\n0 0\n" % r["n"])
                for j, t in enumerate(sorted(r["ttc"])):
                    f.write("%.4f %.5f\n" % (t / 1000, (j + 1) / r["n"]))
                f.write("60 %.5f\n" % (r["ok"] / r["n"]))
            k = len(parts)
            style = ('lw 3 lc rgb "black"' if r["s"]["id"] in ("hu-defaults", "p-hu-defaults-shared") else
                     'lw 2 lc rgb "%s" dt %d' % (COLORS[k % len(COLORS)], 1 + (k // len(COLORS))))
            parts.append('"%s" using 1:2 with steps %s title "%s"' % (dat, style, r["s"]["id"]))
        g.append('set title "service down %d s: %s"' % (c["D"], title))
        g.append("plot " + ", ".join(parts))
g.append("unset multiplot")
gnuplot("\n".join(g) + "\n")
plots.append((png, "time to connect after service-up, %d clients" % big))

# speed against attempts: p99 time-to-connect vs tries per client, largest N
png = PNG + "tradeoff_N%d.png" % big
g = ['set terminal pngcairo size 1400,560 font "sans,9"', 'set output "%s"' % os.path.join(OUT, png),
     'set multiplot layout 1,%d title "%d clients: p99 time to connect after service-up vs connect tries per client (strategies with at least 90 %% of clients connected)" font "sans,12"' % (len(bigc), big),
     "set grid", "unset key", 'set xlabel "tries per client"', 'set ylabel "p99 time to connect (s)"',
     "set logscale y", "set yrange [0.05:20]", "set cbrange [0:1]",
     'set palette defined (0 "#2060c0", 0.5 "#e0a000", 1 "#d02020")',
     'set cblabel "herd: most SYNs in 100 ms after service-up / clients"']
for c in bigc:
    dat = os.path.join(DATA, PFX + "tradeoff_D%d_N%d.dat" % (c["D"], c["N"]))
    with open(dat, "w") as f:
        f.write("# tries_per_client p99_s strategy herd(peak_per_100ms/N)\n")
        for r in c["rows"]:
            if r["ok"] >= 0.9 * r["n"] and r["ttc"]:
                f.write("%.2f %.3f %s %.3f\n" % (r["tries"] / r["n"], max(0.05, pct(r["ttc"], 99) / 1000),
                                                r["s"]["id"], r["peak"] / c["N"]))
    g.append('set title "service down %d s"' % c["D"])
    g.append('plot "%s" using 1:2:4 with points pt 7 ps 1.5 lc palette, '
             '"" using 1:2:3 with labels offset 0,0.8 font "sans,8" noenhanced' % dat)
g.append("unset multiplot")
gnuplot("\n".join(g) + "\n")
plots.append((png, "p99 time to connect vs tries per client, %d clients" % big))

w("## Plots")
w("")
for png, alt in plots:
    w("![%s](%s)" % (alt, png))
    w("")
w("Plot data: `bench/results/data/`.")
open(os.path.join(OUT, NAME + ".md"), "w").write("\n".join(md) + "\n")
print("bench: wrote %s/%s.md and %d plots" % (OUT, NAME, len(plots)), file=sys.stderr)
