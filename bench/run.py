"""Benchmark: every speed target of issue 16, in one run.

    python bench/run.py [--repeats 3] [--scale 1,4,16]

On a copy of the project, contenders run interleaved, run by run, each in a
fresh process; the tables give medians and the ratios the targets are stated
in. Per run, in this order:

- the full build of the paper (print PDF, PDF/A, EPUB) from a cold cache;
- the floor: one WeasyPrint layout and write of the final print HTML;
- Pandoc building the same sources (the essay, the three appendix documents,
  the table's CSV as a Markdown table, the BibTeX, the same CSL style) into an
  EPUB and into a PDF through WeasyPrint;
- a no-change rebuild; a rebuild after editing one paragraph; a rebuild after
  editing only the rights (metadata that moves no text); each edit undone after;
- ``--format epub`` alone, into another folder, when the print layout of the
  same inputs is cached (the build must say the page list comes from it).

Then synthetic volumes of 1, 4 and 16 copies of the paper as separate works
(time per page, its growth, peak memory), and two editions built with
``--jobs 1`` and ``--jobs 2`` (interleaved). Results go to bench/results/
(JSON and Markdown). The load average is read before and after.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
PAPER = "juche"
CACHE = ".edition-cache"
CACHED_LINE = "page list comes from the cached print layout"

WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "run = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)\n"
    "sys.stderr.write(run.stdout)\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, run.returncode)\n"
)

TARGETS = {  # ratio name -> bound it must not exceed (growth: per page, 1 -> largest volume)
    "full / floor": 1.15,
    "full / pandoc": 1.0,
    "one-paragraph / full": 0.6,
    "rights / full": 0.3,
    "epub alone (cached layout) / full": 0.5,
    "time per page growth": 1.10,
    "jobs 1 / jobs 2": None,  # must be at least 1.6
}


def measure(command: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall time (s), peak RSS (KiB) of the largest process of the command's
    tree, and what it printed."""
    out = subprocess.run([sys.executable, "-c", WRAPPER, *command], cwd=cwd, capture_output=True, text=True, check=True)
    seconds, rss, code = out.stdout.split()
    if code != "0":
        raise RuntimeError(f"{command} failed ({code}): {out.stderr[-2000:]}")
    return float(seconds), int(rss), out.stderr


def workspace(tmp: Path, name: str, copies: int = 0, works: int = 1) -> Path:
    """A copy of the project to build in (and edit): with ``copies``, a reader
    of that many copies of the paper as separate works; with ``works`` > 1,
    that many separate editions of the paper."""
    project = tmp / name
    for folder in ("content", "bib", "templates", "edition"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "build.py", project / "build.py")
    for n in range(2, works + 1):
        _copy_work(project, f"{PAPER}{n:02d}", n)
    if copies:
        readings = []
        for n in range(1, copies + 1):
            slug = f"{PAPER}{n:02d}"
            _copy_work(project, slug, n)
            readings.append(f"  - work: {slug}\n")
        (project / "readers").mkdir()
        (project / "readers" / "scale.yaml").write_text(
            "title: Scale\ncourse_code: BENCH\ninstructor: Bench\ninstitution: Bench\nterm: Now\n"
            "identifier: urn:uuid:00000000-0000-4000-8000-0000000000bb\ndate: 2026-11\nlanguage: en\n"
            "rights: Bench.\nreadings:\n" + "".join(readings),
            encoding="utf-8",
        )
    return project


def _copy_work(project: Path, slug: str, n: int) -> None:
    """A copy of the paper as another work (its own identifier)."""
    shutil.copytree(ROOT / "content" / PAPER, project / "content" / slug)
    meta = project / "content" / slug / "work.yaml"
    text = meta.read_text(encoding="utf-8")
    meta.write_text(
        re.sub(r"identifier: urn:uuid:\S+", f"identifier: urn:uuid:00000000-0000-4000-8000-{n:012d}", text),
        encoding="utf-8",
    )


def final_print_html(project: Path) -> Path:
    """The print HTML the build lays out last (with its page make-up corrections)."""
    from edition.layout import print_layout
    from tests.builds import typesetting

    job = typesetting(project, PAPER, out=project / "floor")
    print_layout.lay_out_with_notes_in_place(job)
    html = print_layout.html(job, job.corrections)
    path = project / "final-print.html"
    path.write_text(html, encoding="utf-8")
    return path


def pandoc_input(project: Path) -> Path:
    """The paper as one Pandoc document: the essay's sections, the table (from
    its CSV, as a Markdown table) and the three appendix documents."""
    from edition.read.sources import split_front_matter

    work = project / "content" / PAPER
    parts = []
    for folder in ("text", "documents"):
        for path in sorted((work / folder).glob("*.md")):
            front, body, _ = split_front_matter(path.read_text(encoding="utf-8"))
            title = re.search(r"^title: *\"?(.*?)\"?$", front or "", re.M | re.S)
            heading = " ".join(title.group(1).split()) if title else path.stem
            body = body.replace("[^", f"[^{folder[0]}{path.stem[:2]}-")  # note labels unique in one document
            body = re.sub(
                r"^::: \{\.table #([\w-]+)\}\n.*?^:::\n", lambda m: _table(work, m.group(1)), body, flags=re.M | re.S
            )
            parts.append(f"## {heading}\n\n{body}")
    path = project / "pandoc.md"
    path.write_text(
        "---\ntitle: Juche and North Korea’s Global Aspirations\nlang: en-US\n---\n\n" + "\n\n".join(parts),
        encoding="utf-8",
    )
    return path


def _table(work: Path, name: str) -> str:
    """The table as our outputs print it (countries grouped by year), in Markdown."""
    rows: dict[str, list[str]] = {}
    with open(work / "tables" / f"{name}.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["year"], []).append(row["country"])
    lines = ["| Year | Countries |", "|---|---|"] + [f"| {y} | {', '.join(c)} |" for y, c in rows.items()]
    return "\n".join(lines) + "\n"


def edit(path: Path, old: str, new: str) -> str:
    """Replace ``old`` once; the original text, to put back."""
    original = path.read_text(encoding="utf-8")
    assert old in original, f"{old!r} not in {path}"
    path.write_text(original.replace(old, new, 1), encoding="utf-8")
    return original


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def paper_runs(tmp: Path, repeats: int) -> tuple[dict[str, list[float]], str]:
    import pypandoc

    from edition.infra.tools import csl_path

    project = workspace(tmp, "paper")
    out = project / "dist"
    build = [sys.executable, "build.py", PAPER, "-q", "--out", str(out)]
    subprocess.run([*build, "--force"], cwd=project, check=True)
    html = final_print_html(project)
    floor = [
        sys.executable,
        "-c",
        "import sys, weasyprint; weasyprint.HTML(filename=sys.argv[1], base_url=sys.argv[2]).write_pdf(sys.argv[3])",
        str(html),
        str(project) + "/",
        str(tmp / "floor.pdf"),
    ]
    pandoc = pypandoc.get_pandoc_path()
    weasyprint_bin = shutil.which("weasyprint") or str(Path(sys.executable).parent / "weasyprint")
    md = pandoc_input(project)
    bib = project / "bib" / "juche.bib"
    pandoc_common = [pandoc, str(md), "--citeproc", "--csl", str(csl_path()), "--bibliography", str(bib)]
    pandoc_epub = [*pandoc_common, "-o", str(tmp / "pandoc.epub")]
    pandoc_pdf = [*pandoc_common, "--pdf-engine", weasyprint_bin, "-o", str(tmp / "pandoc.pdf")]
    paragraph = project / "content" / PAPER / "text" / "03-joining-the-third-world.md"
    meta = project / "content" / PAPER / "work.yaml"
    epub_alone = [sys.executable, "build.py", PAPER, "--format", "epub", "--force", "--out", str(project / "epub")]
    keys = ("full", "floor", "pandoc", "no-change", "one-paragraph", "rights", "epub alone")
    times: dict[str, list[float]] = {k: [] for k in keys}
    said = ""
    for run in range(repeats):
        shutil.rmtree(project / CACHE, ignore_errors=True)  # a full build from a cold cache
        times["full"].append(measure([*build, "--force"], project)[0])
        times["floor"].append(measure(floor, project)[0])
        times["pandoc"].append(measure(pandoc_epub, project)[0] + measure(pandoc_pdf, project)[0])
        times["no-change"].append(measure(build, project)[0])
        spaces = " " * (run + 2)
        original = edit(paragraph, "Coincidentally North Korea", f"Coincidentally{spaces}North Korea")
        times["one-paragraph"].append(measure(build, project)[0])
        paragraph.write_text(original, encoding="utf-8")
        original = edit(meta, "may be reused with attribution.", f"may be reused with attribution {run + 1}.")
        times["rights"].append(measure(build, project)[0])
        meta.write_text(original, encoding="utf-8")
        seconds, _, printed = measure(epub_alone, project)  # the layout of these inputs is cached by "full"
        times["epub alone"].append(seconds)
        said = next((line for line in printed.splitlines() if CACHED_LINE in line), "")
        if not said:
            raise RuntimeError(f"--format epub did not say {CACHED_LINE!r}:\n{printed[-2000:]}")
        print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    return times, said


def scale_runs(tmp: Path, sizes: list[int]) -> list[dict]:
    import pikepdf

    rows = []
    for copies in sizes:
        volume = workspace(tmp, f"scale-{copies}", copies=copies)
        seconds, rss, _ = measure(
            [sys.executable, "build.py", "scale", "-q", "--force", "--out", str(volume / "dist")], volume
        )
        with pikepdf.open(volume / "dist" / "scale.pdf") as pdf:
            pages = len(pdf.pages)
        rows.append(
            {
                "copies": copies,
                "seconds": seconds,
                "pages": pages,
                "per_page": seconds / pages,
                "peak_rss_mib": rss / 1024,
            }
        )
        print(f"scale {copies}: {seconds:.1f} s, {pages} pages, {rss / 1024:.0f} MiB", flush=True)
        shutil.rmtree(volume)
    for row in rows[1:]:
        row["per_page_growth"] = row["per_page"] / rows[0]["per_page"]
    return rows


def jobs_runs(tmp: Path, repeats: int) -> dict[str, list[float]]:
    project = workspace(tmp, "two", works=2)
    slugs = [PAPER, f"{PAPER}02"]
    times: dict[str, list[float]] = {"jobs 1": [], "jobs 2": []}
    for run in range(repeats):
        for jobs in (1, 2):
            shutil.rmtree(project / CACHE, ignore_errors=True)
            command = [sys.executable, "build.py", *slugs, "-q", "--force", "--jobs", str(jobs), "--out", "dist"]
            times[f"jobs {jobs}"].append(measure(command, project)[0])
        print(f"two editions, run {run + 1}: jobs 1 {times['jobs 1'][-1]:.2f} s, jobs 2 {times['jobs 2'][-1]:.2f} s")
    shutil.rmtree(project)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", default="1,4,16", help="copies of the paper per synthetic volume")
    args = parser.parse_args(argv)
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="edition-bench-") as tmp_name:
        tmp = Path(tmp_name)
        times, said = paper_runs(tmp, args.repeats)
        scale = scale_runs(tmp, [int(n) for n in args.scale.split(",") if n])
        jobs = jobs_runs(tmp, args.repeats)
    medians = {k: statistics.median(v) for k, v in {**times, **jobs}.items()}
    ratios = {
        "full / floor": medians["full"] / medians["floor"],
        "full / pandoc": medians["full"] / medians["pandoc"],
        "one-paragraph / full": medians["one-paragraph"] / medians["full"],
        "rights / full": medians["rights"] / medians["full"],
        "epub alone (cached layout) / full": medians["epub alone"] / medians["full"],
        "time per page growth": scale[-1]["per_page_growth"] if len(scale) > 1 else 1.0,
        "jobs 1 / jobs 2": medians["jobs 1"] / medians["jobs 2"],
    }
    report = {
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load before": load_before,
            "load after": load(),
        },
        "repeats": args.repeats,
        "medians": medians,
        "ratios": ratios,
        "met": {k: _met(k, v, scale) for k, v in ratios.items()},
        "cached layout line": said,
        "runs": {**times, **jobs},
        "scale": scale,
    }
    publish("bench", report, markdown(report))
    return 0


def publish(name: str, report: dict, table: str) -> None:
    """Write ``bench/results/<name>.json`` and ``.md``; print the table."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{name}.md").write_text(table, encoding="utf-8")
    print(table)


def _met(name: str, value: float, scale: list[dict]) -> bool:
    if name == "jobs 1 / jobs 2":
        return value >= 1.6
    if name == "time per page growth":
        return value <= TARGETS[name] and all(row["peak_rss_mib"] < 1024 for row in scale)
    return value <= TARGETS[name]


def markdown(report: dict) -> str:
    m, r, ok, machine = report["medians"], report["ratios"], report["met"], report["machine"]

    def mark(name: str) -> str:
        return "met" if ok[name] else "**not met**"

    last = report["scale"][-1] if report["scale"] else {}
    lines = [
        f"Machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}; "
        f"load average (1, 5, 15 min) {machine['load before']} before, {machine['load after']} after; "
        f"medians of {report['repeats']} interleaved runs.",
        "",
        "| contender | median (s) |",
        "|---|---|",
        f"| full build of the paper (print PDF + PDF/A + EPUB), cold cache | {m['full']:.2f} |",
        f"| floor: one WeasyPrint layout and write of the final print HTML | {m['floor']:.2f} |",
        f"| Pandoc: EPUB + PDF through WeasyPrint; essay, appendix documents, table, same CSL | {m['pandoc']:.2f} |",
        f"| no-change rebuild | {m['no-change']:.2f} |",
        f"| rebuild after editing one paragraph | {m['one-paragraph']:.2f} |",
        f"| rebuild after editing only the rights | {m['rights']:.2f} |",
        f"| `--format epub` alone, print layout of the same inputs cached | {m['epub alone']:.2f} |",
        f"| two editions, `--jobs 1` | {m['jobs 1']:.2f} |",
        f"| two editions, `--jobs 2` | {m['jobs 2']:.2f} |",
        "",
        "| target (issue 16) | measured | |",
        "|---|---|---|",
        f"| full ≤ 1.15 × floor | {r['full / floor']:.2f} × | {mark('full / floor')} |",
        f"| full ≤ Pandoc on the same sources | {r['full / pandoc']:.2f} × | {mark('full / pandoc')} |",
        f"| one-paragraph edit ≤ 0.6 × full | {r['one-paragraph / full']:.2f} × | {mark('one-paragraph / full')} |",
        f"| rights edit ≤ 0.3 × full | {r['rights / full']:.2f} × | {mark('rights / full')} |",
        f"| `--format epub` alone ≤ 0.5 × full | {r['epub alone (cached layout) / full']:.2f} × "
        f"| {mark('epub alone (cached layout) / full')} |",
        f"| time per page, 1 → {last.get('copies', 1)} works, ≤ 1.10 ×; peak memory < 1 GiB "
        f"| {r['time per page growth']:.2f} ×, {last.get('peak_rss_mib', 0):.0f} MiB | {mark('time per page growth')} |",
        f"| `--jobs 2` ≥ 1.6 × faster than `--jobs 1` (two editions) | {r['jobs 1 / jobs 2']:.2f} × "
        f"| {mark('jobs 1 / jobs 2')} |",
        "",
        f"`--format epub` said: `{report['cached layout line'].strip()}`",
        "",
        "| copies of the paper | seconds | pages | s / page | growth of s / page (vs 1) | peak RSS (MiB) |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["scale"]:
        growth = f"{row['per_page_growth']:.2f}" if "per_page_growth" in row else ""
        lines.append(
            f"| {row['copies']} | {row['seconds']:.1f} | {row['pages']} | {row['per_page']:.3f} | {growth} "
            f"| {row['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
