#!/usr/bin/env python3
"""Scores `edgeward scan --jsonl` on the labelled evaluation set of generate.py.

For each line the scanner's findings become a set of reason codes P; the label gives the expected
set E and the optional set O. Per reason code c:
  true positive  c in E and c in P
  false negative c in E and c not in P
  false positive c in P, c not in E and c not in O
Precision = TP / (TP + FP), recall = TP / (TP + FN). Codes reported but never expected in the set
are listed with their false positives only.

Usage:
  python3 bench/detection/score.py --edgeward build/cli/edgeward [--seed N] [--per-class N]
         [--set tuned|heldout|heldout2|heldout3|heldout4|heldout5|round6|round7|round7b] [--rules PACK] [--examples K]
         [--markdown]
Exit status: 0 when every target is met (checksum-validated classes >= 0.97, the rest >= 0.9;
with --gate checksum only the former count), 1 when one is missed, 2 when the scanner could not
be run.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402

# Classes whose detection is decided by a checksum or a structural validator (DESIGN §3.1).
CHECKSUM_CODES = {
    "DLP.PII.IBAN", "DLP.PII.CREDIT_CARD", "DLP.PII.US_SSN", "DLP.PII.US_BANK_ROUTING",
    "DLP.PII.CRYPTO_WALLET", "DLP.SECRET.GITHUB_TOKEN", "DLP.SECRET.NPM_TOKEN",
    "DLP.SECRET.JWT",
}


def run_scan(edgeward, records, layer, rules=None):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({"text": r["text"]}, ensure_ascii=False) + "\n")
        path = f.name
    try:
        cmd = [edgeward, "scan", "--jsonl"]
        if layer:
            cmd += ["--layer", layer]
        if rules:
            cmd += ["--rules", rules]
        cmd.append(path)
        proc = subprocess.run(cmd, capture_output=True, timeout=600)
    finally:
        os.unlink(path)
    if proc.returncode not in (0, 1):
        sys.stderr.write("scan failed (exit %d): %s\n" % (proc.returncode, proc.stderr.decode(errors="replace")))
        sys.exit(2)
    found = {}
    for line in proc.stdout.decode("utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        found[obj["line"]] = {f["reason_code"] for f in obj.get("findings", [])}
    if len(found) != len(records):
        sys.stderr.write("scan returned %d lines for %d inputs\n" % (len(found), len(records)))
        sys.exit(2)
    return [found[i + 1] for i in range(len(records))]


def ratio(a, b):
    return a / b if b else float("nan")


def fmt(x):
    return "n/a" if x != x else "%.3f" % x


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edgeward", default=os.environ.get("EDGEWARD_BIN", "build/cli/edgeward"))
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--per-class", type=int, default=200)
    ap.add_argument("--layer", default=None, help="passed to scan --layer")
    ap.add_argument("--other-surfaces", action="store_true",
                    help="include classes the default pack checks only in tool content "
                         "(scan scans a request body, so they are expected to be missed)")
    ap.add_argument("--examples", type=int, default=3, help="examples shown per miss/false-positive group")
    ap.add_argument("--markdown", action="store_true", help="print the summary table as Markdown")
    ap.add_argument("--set", choices=["tuned", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "round6",
                             "round7", "round7b"],
                    default="tuned",
                    help="tuned: the set the default pack was tuned on (default); heldout, heldout2: "
                         "rounds 1 and 2 of new phrasings and look-alikes; heldout3: round 3, "
                         "written independently without access to the rules, never tuned on "
                         "(heldout3.py); heldout4: round 4, written with the generalised rules "
                         "(generate.py); heldout5: round 5, written independently without access "
                         "to the rules or earlier rounds, never tuned on (heldout5.py); round6: "
                         "passwords, written independently, since tuned on; round7: injection, "
                         "written independently, half A chose the intent rules' cues; round7b: "
                         "its half B, only scored (round7.py)")
    ap.add_argument("--rules", default=None,
                    help="scan with this pack file instead of the embedded one (scan --rules)")
    ap.add_argument("--gate", choices=["all", "checksum"], default="all",
                    help="which targets decide the exit status (checksum: only the validated classes, "
                         "as the CI regression test uses it)")
    args = ap.parse_args()

    if args.set == "heldout":
        records = generate.build_heldout(args.seed, args.per_class)
    elif args.set == "heldout2":
        records = generate.build_heldout2(args.seed, args.per_class)
    elif args.set == "heldout3":
        import heldout3  # noqa: E402 (kept apart from generate.py: nobody tuning rules reads it)
        records = heldout3.build_heldout3(args.seed, args.per_class)
    elif args.set == "heldout4":
        records = generate.build_heldout4(args.seed, args.per_class)
    elif args.set == "heldout5":
        import heldout5  # noqa: E402 (kept apart from generate.py: nobody tuning rules reads it)
        records = heldout5.build_heldout5(args.seed, args.per_class)
    elif args.set == "round6":
        import round6  # noqa: E402 (passwords only; written independently, since tuned on)
        records = round6.build_round6()
    elif args.set in ("round7", "round7b"):
        import round7  # noqa: E402 (injection only; written independently; half A chose cues)
        import zlib  # noqa: E402
        records = round7.build_round7()
        if args.set == "round7b":
            records = [r for r in records if zlib.crc32(r["id"].encode()) % 2 == 1]
    else:
        records = generate.build(args.seed, args.per_class, args.other_surfaces)
    predicted = run_scan(args.edgeward, records, args.layer, args.rules)

    tp, fn, fp = collections.Counter(), collections.Counter(), collections.Counter()
    misses = collections.defaultdict(list)       # (code, class) -> texts
    false_pos = collections.defaultdict(list)    # (code, class) -> texts
    class_stats = collections.defaultdict(lambda: [0, 0, 0, 0])  # pos, pos_hit, neg, neg_alarm
    for r, p in zip(records, predicted):
        e, o = set(r["expected"]), set(r["optional"])
        for c in e:
            if c in p:
                tp[c] += 1
            else:
                fn[c] += 1
                misses[(c, r["class"])].append(r)
        for c in p - e - o:
            fp[c] += 1
            false_pos[(c, r["class"])].append(r)
        st = class_stats[r["class"]]
        if e:
            st[0] += 1
            st[1] += 1 if e <= p else 0
        else:
            st[2] += 1
            st[3] += 1 if (p - o) else 0

    expected_codes = sorted({c for r in records for c in r["expected"]})
    all_failed = []
    rows = []
    for c in expected_codes:
        prec, rec = ratio(tp[c], tp[c] + fp[c]), ratio(tp[c], tp[c] + fn[c])
        target = 0.97 if c in CHECKSUM_CODES else 0.9
        ok = prec == prec and rec == rec and prec >= target and rec >= target
        if not ok:
            all_failed.append(c)
        rows.append((c, tp[c] + fn[c], tp[c], fn[c], fp[c], prec, rec, target, ok))

    print("evaluation set (%s): %d texts (seed %d, per-class %d), scanner %s" % (args.set, len(records), args.seed, args.per_class, args.edgeward))
    if args.markdown:
        print("\n| reason code | positives | TP | FN | FP | precision | recall | target | met |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|:---:|")
        for c, n, t, f, p_, prec, rec, target, ok in rows:
            print("| `%s` | %d | %d | %d | %d | %s | %s | %.2f | %s |" % (c, n, t, f, p_, fmt(prec), fmt(rec), target, "yes" if ok else "**no**"))
    else:
        print("\n%-36s %6s %6s %6s %6s %9s %7s %6s" % ("reason code", "pos", "TP", "FN", "FP", "precision", "recall", "target"))
        for c, n, t, f, p_, prec, rec, target, ok in rows:
            print("%-36s %6d %6d %6d %6d %9s %7s %6.2f %s" % (c, n, t, f, p_, fmt(prec), fmt(rec), target, "" if ok else "MISSED"))
    unexpected = sorted(c for c in fp if c not in expected_codes)
    if unexpected:
        print("\nreported but never expected in this set (false positives only):")
        for c in unexpected:
            print("  %-36s FP %d" % (c, fp[c]))

    print("\nper class: positives detected / negatives with a false alarm")
    for cls in sorted(class_stats):
        pos, hit, neg, alarm = class_stats[cls]
        print("  %-28s %4d/%-4d detected   %4d/%-4d false alarms" % (cls, hit, pos, alarm, neg))

    if args.examples > 0:
        print("\nmisses (false negatives) by code and class:")
        for (c, cls), rs in sorted(misses.items(), key=lambda kv: -len(kv[1])):
            print("  %s in %s: %d" % (c, cls, len(rs)))
            for r in rs[:args.examples]:
                print("      %s  %s" % (r["id"], json.dumps(r["text"], ensure_ascii=True)[:160]))
        print("\nfalse positives by code and class:")
        for (c, cls), rs in sorted(false_pos.items(), key=lambda kv: -len(kv[1])):
            print("  %s in %s: %d" % (c, cls, len(rs)))
            for r in rs[:args.examples]:
                print("      %s  %s" % (r["id"], json.dumps(r["text"], ensure_ascii=True)[:160]))

    if all_failed:
        print("\ntargets missed: %s" % ", ".join(all_failed))
    gated = [c for c in all_failed if args.gate == "all" or c in CHECKSUM_CODES]
    if gated:
        print("exit status 1 (gate %s): %s" % (args.gate, ", ".join(gated)))
        return 1
    print("\nall gated targets met (gate %s)" % args.gate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
