"""``sktags demo``: the whole system end to end, offline, on what sktags ships.

The experiment is :func:`sktags.demo.run_demo`; this module parses and prints.
"""

import time

HELP = "offline end-to-end demo on the bundled data (1-3 minutes on 2 CPU cores)"


def add_parser(sub):
    p = sub.add_parser(
        "demo",
        help=HELP,
        description=(
            "Run sktags end to end, offline, on what the package ships: (1) the released "
            "label matrix: co-occurrences (the paper's Figure 1) and the confidence weights "
            "of each scheme; (2) log-mel extraction from the bundled real recordings, with "
            "the feature cache; (3) the five weighting configurations of the paper's Table 2, "
            "each trained on a constructed set whose true labels are known and some of whose "
            "positives are hidden, scored against the TRUE labels of held-out clips, and "
            "against the incomplete ones as the paper had to. Prints the Table 1 and Table 2 "
            "style reports; writes figures, CSV and JSON to --out."
        ),
    )
    p.add_argument("-o", "--out", default="demo_out", metavar="DIR", help="output folder (default demo_out)")
    p.add_argument("--quick", action="store_true", help="a tiny run for smoke tests (seconds; results meaningless)")
    p.add_argument("--hidden-share", type=float, default=0.4, help="share of true positives hidden (default 0.4)")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel processes (default: one per core, at most 5)")
    p.add_argument("--no-figures", action="store_true", help="skip the matplotlib figures")
    p.set_defaults(run=run)
    return p


def run(args):
    from ..demo import BANNER, run_demo

    start = time.perf_counter()
    printed = []

    def progress(step, part):
        if not printed:
            print(BANNER, flush=True)
            if args.quick:
                print("\n--quick: a tiny smoke run; its numbers mean nothing.", flush=True)
            printed.append(True)
        if part is None:
            print(f"\n[{time.perf_counter() - start:6.1f} s] {step}", flush=True)
        else:
            print(part, flush=True)
            files = [p for p in part.files if p.suffix == ".png"]
            if files:
                print("  figures: " + ", ".join(str(p) for p in files), flush=True)

    results = run_demo(args.out, quick=args.quick, hidden_share=args.hidden_share,
                       random_state=args.random_state, n_jobs=args.jobs,
                       figures=not args.no_figures, progress=progress)
    if not args.no_figures and not results.settings["figures"]:
        print("  (matplotlib is not installed: no figures; pip install 'sktags[plot]')")
    print(f"\n[{results.total_seconds:6.1f} s] done: results in {results.out_dir}/ "
          "(results.json, table2_*.csv, figures)")
    return 0
