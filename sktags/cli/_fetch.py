"""``sktags fetch-previews``: download Deezer 30 s previews."""

from ._errors import CLIError
from ._paths import write_text_atomic
from ._tables import read_ids

HELP = "download the Deezer 30 s MP3 previews of track ids (resumable)"


def add_parser(sub):
    p = sub.add_parser(
        "fetch-previews",
        help=HELP,
        description=(
            "Download the 30 s preview MP3s of Deezer tracks through Deezer's public API into "
            "a folder, as {track_id}.mp3. Parallel, with retries; files are written "
            "atomically and existing ones are skipped, so an interrupted run resumes when "
            "run again. About a quarter of the released dataset's tracks have no preview "
            "any more: they are listed, not fatal. Needs internet access."
        ),
    )
    p.add_argument(
        "ids",
        nargs="?",
        metavar="IDS",
        help="CSV whose first column is the track id (e.g. a labels file), or a text file "
        "with one id per line; default: the released dataset's 49,929 ids",
    )
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="destination folder")
    p.add_argument("--limit", type=int, default=None, help="only the first N ids")
    p.add_argument("--jobs", "-j", type=int, default=8, help="concurrent downloads (default 8)")
    p.add_argument("--retries", type=int, default=3, help="extra attempts per request")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="time limit of each request, body included (s, default 30)")
    p.add_argument("--api-url", default=None,
                   help="track endpoint with an {id} placeholder (default: Deezer's public API)")
    p.add_argument("--report", metavar="CSV", help="write track_id,status,reason for every problem track")
    p.set_defaults(run=run)
    return p


def run(args):
    from ..datasets import fetch_deezer_previews

    if args.ids:
        ids = read_ids(args.ids)
    else:
        from ..datasets import load_context_tags

        ids = [int(t) for t in load_context_tags().track_ids]
    if args.limit is not None:
        if args.limit < 1:
            raise CLIError(f"--limit must be at least 1, got {args.limit}")
        ids = ids[: args.limit]
    kwargs = {"n_jobs": args.jobs, "max_retries": args.retries, "timeout": args.timeout}
    if args.api_url:
        kwargs["api_url"] = args.api_url
    print(f"fetching {len(ids)} previews into {args.out} ...")
    report = fetch_deezer_previews(ids, args.out, **kwargs)
    print(
        f"downloaded {len(report.downloaded)}, already there {len(report.skipped)}, "
        f"no preview {len(report.unavailable)}, failed {len(report.failed)}"
    )
    problems = [(t, "unavailable") for t in report.unavailable] + [
        (t, "failed") for t in report.failed
    ]
    if args.report:
        lines = ["track_id,status,reason"] + [
            f"{t},{s},\"{report.reasons.get(int(t), '').replace(chr(34), chr(39))}\""
            for t, s in problems
        ]
        write_text_atomic(args.report, "\n".join(lines) + "\n")
        print(f"problem tracks listed in {args.report}")
    if len(report.failed):
        print("some downloads failed; run the same command again to retry them")
        return 1
    return 0
