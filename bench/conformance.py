"""Conformance figures: how many vectors labkit.verify_jws agrees with, per file.

    .venv/bin/python bench/conformance.py [VECTORS_DIR]   (default: ../shared/vectors)

Every disagreement is listed with the verifier's reason, and marked when it is
one of the known-faulty vectors (see labkit.conformance.KNOWN_FAULTY).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from labkit import conformance

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"


def main(argv: list[str]) -> int:
    vectors = Path(argv[0]) if argv else DEFAULT_DIR
    if not vectors.is_dir():
        print(f"no vectors at {vectors}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    results = [conformance.run(case) for case in conformance.load(vectors)]
    seconds = time.perf_counter() - start
    print(f"{'file':<30} {'agreed/total':>12} {'known-faulty':>13} {'sound agreed':>13}")
    for file, (agreed, total) in conformance.summary(results).items():
        sound = [r for r in results if r.case.file == file and not r.case.known_faulty]
        sound_agreed = f"{sum(r.agrees for r in sound)}/{len(sound)}"
        faulty = total - len(sound)
        print(f"{file:<30} {f'{agreed}/{total}':>12} {faulty:>13} {sound_agreed:>13}")
    wrong = [r for r in results if not r.agrees]
    print(f"{len(results)} vectors in {seconds * 1000:.0f} ms; {len(wrong)} disagreements:")
    for r in wrong:
        mark = "known-faulty" if r.case.known_faulty else "REAL FAILURE"
        print(f"  {r.case.id:<7} {mark:<12} label {r.case.expected}: {r.reason}")
    return 0 if all(r.case.known_faulty for r in wrong) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
