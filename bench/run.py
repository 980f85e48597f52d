"""Benchmark: our build against the layout floor and against Pandoc, in one run.

    python bench/run.py [--repeats 3] [--scale 1,2,4,8,16]

Contenders run interleaved, run by run, each in a fresh process; the table
gives medians and ratios. Results go to bench/results/ (JSON and Markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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

WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)\n"
)


def measure(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time (s) and peak RSS (KiB) of the largest process of a command's tree."""
    out = subprocess.run([sys.executable, "-c", WRAPPER, *command], cwd=cwd, capture_output=True, text=True, check=True)
    seconds, rss, code = out.stdout.split()
    if code != "0":
        raise RuntimeError(f"{command} failed ({code}): {out.stderr[-2000:]}")
    return float(seconds), int(rss)


def workspace(tmp: Path, copies: int = 0) -> Path:
    """A copy of the project to build in (and edit), optionally with a reader
    of ``copies`` copies of the paper as separate works."""
    project = tmp / f"project-{copies}"
    for folder in ("content", "bib", "templates", "edition"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "build.py", project / "build.py")
    if copies:
        readings = []
        for n in range(1, copies + 1):
            slug = f"juche{n:02d}"
            shutil.copytree(ROOT / "content" / PAPER, project / "content" / slug)
            readings.append(f"  - work: {slug}\n")
        (project / "readers").mkdir()
        (project / "readers" / "scale.yaml").write_text(
            "title: Scale\ncourse_code: BENCH\ninstructor: Bench\ninstitution: Bench\nterm: Now\n"
            "identifier: urn:uuid:00000000-0000-4000-8000-0000000000bb\ndate: 2026-11\nlanguage: en\n"
            "rights: Bench.\nreadings:\n" + "".join(readings),
            encoding="utf-8",
        )
    return project


def final_print_html(project: Path) -> Path:
    """The print HTML the build lays out last (with its note corrections)."""
    from edition.pipeline import Options, Result, build_date, lay_out_with_notes_in_place, print_html
    from edition.reader import read_work
    from edition.render import environment
    from edition.resolve import resolve_work, single_work_edition

    edition = single_work_edition(resolve_work(read_work(project, PAPER)))
    env = environment(project / "templates")
    options = Options(project=project, out=project / "floor")
    result = Result()
    lay_out_with_notes_in_place(edition, env, options, build_date(edition), result)
    html = print_html(edition, env, options, build_date(edition), result.split_points[PAPER])
    path = project / "final-print.html"
    path.write_text(html, encoding="utf-8")
    return path


def pandoc_input(project: Path) -> Path:
    """The paper's Markdown as one Pandoc document (front matter turned into headings)."""
    from edition.sources import split_front_matter

    parts = []
    for path in sorted((project / "content" / PAPER / "text").glob("*.md")):
        front, body, _ = split_front_matter(path.read_text(encoding="utf-8"))
        title = (
            [line for line in (front or "").splitlines() if line.startswith("title:")][0]
            .split(":", 1)[1]
            .strip()
            .strip('"')
        )
        # note labels repeat across files: make them unique for one document
        body = body.replace("[^", f"[^{path.stem[:2]}-")
        parts.append(f"## {title}\n\n{body}")
    path = project / "pandoc.md"
    path.write_text(
        "---\ntitle: Juche and North Korea’s Global Aspirations\nlang: en-US\n---\n\n" + "\n\n".join(parts),
        encoding="utf-8",
    )
    return path


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", default="1,2,4,8,16", help="copies of the paper per synthetic volume")
    args = parser.parse_args(argv)
    import pypandoc

    from edition.tools import csl_path

    pandoc = pypandoc.get_pandoc_path()
    weasyprint_bin = shutil.which("weasyprint") or str(Path(sys.executable).parent / "weasyprint")
    with tempfile.TemporaryDirectory(prefix="edition-bench-") as tmp_name:
        tmp = Path(tmp_name)
        project = workspace(tmp)
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
        md = pandoc_input(project)
        bib = project / "bib" / "juche.bib"
        pandoc_common = [pandoc, str(md), "--citeproc", "--csl", str(csl_path()), "--bibliography", str(bib)]
        pandoc_epub = [*pandoc_common, "-o", str(tmp / "pandoc.epub")]
        pandoc_pdf = [*pandoc_common, "--pdf-engine", weasyprint_bin, "-o", str(tmp / "pandoc.pdf")]
        paragraph = project / "content" / PAPER / "text" / "03-joining-the-third-world.md"
        original = paragraph.read_text(encoding="utf-8")
        times: dict[str, list[float]] = {k: [] for k in ("full", "floor", "pandoc", "no-change", "one-paragraph")}
        for run in range(args.repeats):
            times["full"].append(measure([*build, "--force"], project)[0])
            times["floor"].append(measure(floor, project)[0])
            epub_time = measure(pandoc_epub, project)[0]
            times["pandoc"].append(epub_time + measure(pandoc_pdf, project)[0])
            times["no-change"].append(measure(build, project)[0])
            paragraph.write_text(
                original.replace("Coincidentally North Korea", f"Coincidentally{' ' * (run + 2)}North Korea", 1),
                encoding="utf-8",
            )
            times["one-paragraph"].append(measure(build, project)[0])
            paragraph.write_text(original, encoding="utf-8")
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
        medians = {k: median(v) for k, v in times.items()}
        scale = []
        for copies in [int(n) for n in args.scale.split(",") if n]:
            volume = workspace(tmp, copies)
            seconds, rss = measure(
                [sys.executable, "build.py", "scale", "-q", "--force", "--out", str(volume / "dist")], volume
            )
            import pikepdf

            with pikepdf.open(volume / "dist" / "scale.pdf") as pdf:
                pages = len(pdf.pages)
            scale.append(
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
    for before, after in zip(scale, scale[1:], strict=False):
        after["per_page_growth"] = after["per_page"] / before["per_page"]
    report = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "repeats": args.repeats,
        "medians": medians,
        "ratios": {
            "full / floor": medians["full"] / medians["floor"],
            "full / pandoc": medians["full"] / medians["pandoc"],
        },
        "runs": times,
        "scale": scale,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    table = markdown(report)
    (RESULTS / "bench.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


def markdown(report: dict) -> str:
    m, r = report["medians"], report["ratios"]
    lines = [
        f"Machine: {report['machine']['cores']} cores, Python {report['machine']['python']}; medians of {report['repeats']} interleaved runs.",
        "",
        "| contender | median (s) | ratio |",
        "|---|---|---|",
        f"| our full build (print PDF + PDF/A + EPUB, with checks of the layout) | {m['full']:.2f} | {r['full / floor']:.2f} × floor |",
        f"| floor: one WeasyPrint layout and write of the final print HTML | {m['floor']:.2f} | 1.00 |",
        f"| Pandoc: EPUB + PDF through WeasyPrint, same CSL | {m['pandoc']:.2f} | ours {r['full / pandoc']:.2f} × Pandoc |",
        f"| no-change rebuild | {m['no-change']:.2f} | |",
        f"| rebuild after editing one paragraph | {m['one-paragraph']:.2f} | |",
        "",
        "| copies of the paper | seconds | pages | s / page | growth of s / page | peak RSS (MiB) |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["scale"]:
        growth = f"{row['per_page_growth']:.2f}" if "per_page_growth" in row else ""
        lines.append(
            f"| {row['copies']} | {row['seconds']:.1f} | {row['pages']} | {row['per_page']:.3f} | {growth} | {row['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
