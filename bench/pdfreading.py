"""Benchmark: what a 300-page scanned PDF reading costs a course reader.

    python bench/pdfreading.py [--repeats 3] [--pages 300]

Builds, in one invocation and interleaved run by run, each in a fresh process,
two readers of a copy of the project: the typeset readings of the demo reader
(the essay and the three documents), and the same readings with a scanned
chapter of ``--pages`` image pages added (made here, never committed: one
150 dpi greyscale JPEG per Letter page, as a library scanner makes them).
Reports wall time and peak memory of each (all three formats), the added cost
as a ratio of the typeset readings' cost, and checks that every page image in
the print PDF and the PDF/A is the scan's own JPEG stream, byte for byte
(copied, not re-rendered). Results go to bench/results/pdfreading.{json,md}.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import measure, publish, workspace  # noqa: E402

READER = """title: Bench Reader
course_code: BENCH 389
instructor: Bench
institution: Bench
term: Now
identifier: urn:uuid:00000000-0000-4000-8000-0000000000{n}
date: 2027-01
language: en
rights: Bench.
bibliography: bench.bib
readings:
  - work: juche
    documents: []
  - work: juche
    sections: []
    documents: [1]
  - work: juche
    sections: []
    documents: [2]
  - work: juche
    sections: []
    documents: [3]
{scan}"""
SCAN_READING = "  - pdf: readings/scan.pdf\n    cite: scan\n"
BIB = "@book{scan,\n  author = {Scanner, Library},\n  title = {A Scanned Chapter},\n  publisher = {Bench Press},\n  date = {1997},\n}\n"


def make_scan(path: Path, pages: int) -> int:
    """An image-only PDF of ``pages`` Letter pages; each a different page
    image, written one at a time so memory stays small. Returns its size."""
    import pikepdf
    from PIL import Image, ImageDraw

    pdf = pikepdf.new()
    width, height = 1275, 1650  # Letter at 150 dpi
    # paper grain, so each JPEG is as big as a real scan's (flat grey would compress to
    # nothing); one sheet of grain, cut at a different place for each page
    grain = Image.effect_noise((width + 97, height + 89), 24).point(lambda v: 200 + v // 5)
    for number in range(1, pages + 1):
        x, y = number * 7 % 97, number * 13 % 89
        image = grain.crop((x, y, x + width, y + height))
        draw = ImageDraw.Draw(image)
        for line in range(48):  # lines of "text", different on every page
            y = 150 + line * 28
            length = 700 + (number * 37 + line * 53) % 300
            draw.rectangle([150, y, 150 + length, y + 9], fill=40 + (number + line) % 30)
        draw.text((width // 2, height - 90), str(number), fill=0)
        jpeg = io.BytesIO()
        image.save(jpeg, "JPEG", quality=75)
        stream = pdf.make_stream(
            jpeg.getvalue(),
            Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Image,
            Width=width,
            Height=height,
            ColorSpace=pikepdf.Name.DeviceGray,
            BitsPerComponent=8,
            Filter=pikepdf.Name.DCTDecode,
        )
        pdf.add_blank_page(page_size=(612, 792))
        page = pdf.pages[-1]
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=stream))
        page.obj.Contents = pdf.make_stream(b"q 612 0 0 792 0 0 cm /Im0 Do Q")
    pdf.save(path)
    return path.stat().st_size


def copied_images(scan: Path, built: Path) -> tuple[int, int]:
    """(page images of the scan found byte for byte in the built PDF, pages of the scan)."""
    import pikepdf

    with pikepdf.open(scan) as source:
        wanted = {p.Resources.XObject.Im0.read_raw_bytes() for p in source.pages}
        total = len(source.pages)
    found = set()
    with pikepdf.open(built) as pdf:
        for page in pdf.pages:
            for _, form in (page.Resources.get("/XObject") or {}).items():
                for _, image in (form.get("/Resources", {}).get("/XObject") or {}).items():
                    if image.get("/Subtype") == "/Image":
                        raw = image.read_raw_bytes()
                        if raw in wanted:
                            found.add(raw)
    return len(found), total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edition-bench-pdf-") as tmp_name:
        project = workspace(Path(tmp_name), "project")
        (project / "readers" / "readings").mkdir(parents=True)
        scan = project / "readers" / "readings" / "scan.pdf"
        scan_bytes = make_scan(scan, args.pages)
        (project / "bib" / "bench.bib").write_text(BIB, encoding="utf-8")
        (project / "readers" / "typeset.yaml").write_text(READER.format(n="c1", scan=""), encoding="utf-8")
        (project / "readers" / "scanned.yaml").write_text(READER.format(n="c2", scan=SCAN_READING), encoding="utf-8")
        runs: dict[str, list[tuple[float, int]]] = {"typeset": [], "scanned": []}
        for run in range(args.repeats):
            for name in runs:
                command = [sys.executable, "build.py", name, "-q", "--force", "--out", str(project / "dist" / name)]
                runs[name].append(measure(command, project)[:2])
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1][0]:.2f} s" for k, v in runs.items()), flush=True)
        dist = project / "dist"
        copies = {kind: copied_images(scan, dist / "scanned" / f"scanned{kind}.pdf") for kind in ("", "-pdfa")}
        sizes = {f.name: f.stat().st_size for f in sorted((dist / "scanned").iterdir()) if not f.name.startswith(".")}
        import pikepdf

        pages = {}
        for name in runs:
            with pikepdf.open(dist / name / f"{name}.pdf") as pdf:
                pages[name] = len(pdf.pages)
    seconds = {k: statistics.median(s for s, _ in v) for k, v in runs.items()}
    memory = {k: max(r for _, r in v) / 1024 for k, v in runs.items()}
    added = seconds["scanned"] - seconds["typeset"]
    report = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "repeats": args.repeats,
        "scan": {"pages": args.pages, "bytes": scan_bytes},
        "seconds": seconds,
        "peak_rss_mib": memory,
        "pages": pages,
        "added_seconds": added,
        "added / typeset": added / seconds["typeset"],
        "seconds per page": {
            "typeset": seconds["typeset"] / pages["typeset"],
            "scanned pages": added / (pages["scanned"] - pages["typeset"]),
        },
        "images copied byte for byte": {k or "print": f"{found}/{total}" for k, (found, total) in copies.items()},
        "output bytes": sizes,
        "runs": runs,
    }
    publish("pdfreading", report, markdown(report))
    failed = [k for k, (found, total) in copies.items() if found != total]
    return 1 if failed else 0


def markdown(report: dict) -> str:
    s, m, p = report["seconds"], report["peak_rss_mib"], report["pages"]
    per = report["seconds per page"]
    scan = report["scan"]
    lines = [
        f"Machine: {report['machine']['cores']} cores, Python {report['machine']['python']}; "
        f"medians of {report['repeats']} interleaved runs, each a fresh process building PDF, PDF/A and EPUB.",
        "",
        "| reader | pages | median (s) | s / page | peak RSS (MiB) |",
        "|---|---|---|---|---|",
        f"| typeset readings (essay + 3 documents) | {p['typeset']} | {s['typeset']:.2f} | {per['typeset']:.3f} | {m['typeset']:.0f} |",
        f"| the same + a {scan['pages']}-page scan ({scan['bytes'] / 2**20:.1f} MiB) | {p['scanned']} | {s['scanned']:.2f} | "
        f"{per['scanned pages']:.3f} (scan pages) | {m['scanned']:.0f} |",
        "",
        f"The scan adds {report['added_seconds']:.2f} s, {report['added / typeset']:.2f} × the typeset readings' time, "
        f"for {p['scanned'] - p['typeset']} pages against their {p['typeset']}. "
        "Page images copied byte for byte: "
        + ", ".join(f"{k} {v}" for k, v in report["images copied byte for byte"].items())
        + ".",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
