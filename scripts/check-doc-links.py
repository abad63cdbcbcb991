#!/usr/bin/env python3
"""Checks the links in README.md, docs/*.md and bench/RESULTS.md.

Every relative link must name a file of the repository, and every #anchor a heading of
that file (GitHub's rule: lower case, punctuation dropped, spaces become hyphens, a
repeated heading gets -1, -2, ...). Links to http(s) addresses are not followed.
Run from anywhere: python3 scripts/check-doc-links.py; exit status 1 on a broken link.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def anchors(path):
    found, seen, fence = set(), {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                fence = not fence
                continue
            m = None if fence else re.match(r"^#{1,6} (.*?)\s*#*\s*$", line)
            if not m:
                continue
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def links(path):
    fence = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.startswith("```"):
                fence = not fence
                continue
            if fence:
                continue
            line = re.sub(r"`[^`]*`", "", line)  # code spans hold no links
            for m in re.finditer(r"\]\(([^)\s]*)\)", line):
                yield number, m.group(1)


def main():
    files = [os.path.join(ROOT, "README.md"), os.path.join(ROOT, "bench", "RESULTS.md")]
    docs = os.path.join(ROOT, "docs")
    files += sorted(os.path.join(docs, n) for n in os.listdir(docs) if n.endswith(".md"))
    cache, bad = {}, 0
    for path in files:
        for number, target in links(path):
            if re.match(r"^[a-z]+:", target):
                continue
            if not target:
                print(f"{os.path.relpath(path, ROOT)}:{number}: an empty link", file=sys.stderr)
                bad += 1
                continue
            file_part, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            where = f"{os.path.relpath(path, ROOT)}:{number}: {target}"
            if not os.path.exists(dest):
                print(f"{where}: no such file", file=sys.stderr)
                bad += 1
                continue
            if anchor:
                if not dest.endswith(".md"):
                    print(f"{where}: anchor on a file that is not markdown", file=sys.stderr)
                    bad += 1
                    continue
                if dest not in cache:
                    cache[dest] = anchors(dest)
                if anchor not in cache[dest]:
                    print(f"{where}: no heading for #{anchor}", file=sys.stderr)
                    bad += 1
    print(f"{len(files)} files checked, {bad} broken link(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
