"""`kllm cache` (behind `make cache`, `make cache-prune DAYS=N`): what the cache holds, and removing
what no one reads any more.

    python -m cli cache                              # every entry, largest first: size, files, last read
    python -m cli cache prune --unused-days 30       # remove the entries no one read in 30 days
    python -m cli cache prune --unused-days 30 --dry-run
    python -m cli cache remove generator/smollm2-int8-dynamic-09f321437157 [...]

Every cached result is keyed by the hash of its inputs, so a change of code, model or data builds a
new entry beside the old one, which stays until removed (`make clean` removes them all, the costly
conversions and trained variants too). Prune also removes the temp folders of killed writers.
"""
from __future__ import annotations

import sys

from common.cache_usage import (cache_entries, check_removable, days_ago, find_entries, printable, records_reads,
                                remove_entry, unused_entries)
from common.errors import count_arg
from common.paths import cache_root


def add_parser(subparsers):
    p = subparsers.add_parser("cache", help="list the cache's entries (size, last read); prune or remove them")
    p.add_argument("--top", type=count_arg("--top"), default=0, metavar="N", help="list only the N largest entries")
    p.set_defaults(func=run_list)
    actions = p.add_subparsers(dest="cache_command", metavar="{prune,remove}", parser_class=type(p))

    prune = actions.add_parser("prune", help="remove the entries no one has read for N days, and killed "
                                             "writers' temp folders")
    prune.add_argument("--unused-days", type=count_arg("--unused-days"), required=True, metavar="N",
                       help="a whole number of days, at least 1")
    prune.add_argument("--dry-run", action="store_true", help="list what would be removed; remove nothing")
    prune.set_defaults(func=run_prune)

    remove = actions.add_parser("remove", help="remove the named entries (as `kllm cache` lists them)")
    remove.add_argument("names", nargs="+", metavar="KIND/ENTRY")
    remove.add_argument("--dry-run", action="store_true", help="list what would be removed; remove nothing")
    remove.set_defaults(func=run_remove)


def _size(size_bytes: int) -> str:
    if size_bytes >= 1024 * 1024:
        return f"{size_bytes / 1024 / 1024:,.1f} MB"
    return f"{size_bytes / 1024:.0f} KB" if size_bytes >= 1024 else f"{size_bytes} B"


def _count(n: int, noun: str, plural: str = "") -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def run_list(args) -> int:
    root = cache_root()
    entries = cache_entries(root)
    if not entries:
        print(f"the cache at {root} is empty")
        return 0
    shown = entries[:args.top] if args.top else entries
    width = max(len(printable(e.name)) for e in shown)
    print(f"{'entry':<{width}}  {'size':>11}  {'files':>6}  last read")
    for e in shown:
        note = ("  (left by a killed run)" if e.leftover else "  (being written now)" if e.writing
                else f"  (kept, never pruned: {e.kept})" if e.kept else "")
        print(f"{printable(e.name):<{width}}  {_size(e.size_bytes):>11}  {e.files:>6}  {days_ago(e.last_read)}{note}")
    more = f" ({len(entries) - len(shown)} more not shown)" if len(shown) < len(entries) else ""
    print(f"{_count(len(entries), 'entry', 'entries')}, {_size(sum(e.size_bytes for e in entries))} in {root}{more}")
    kinds: dict[str, list[int]] = {}
    for e in entries:
        kinds.setdefault(e.name.split("/")[0] if "/" in e.name else "(top level)", []).append(e.size_bytes)
    print("by kind: " + ", ".join(f"{kind} {_size(sum(sizes))} ({len(sizes)})" for kind, sizes
                                  in sorted(kinds.items(), key=lambda item: -sum(item[1]))))
    if not records_reads(root):
        print("note: this file system is mounted noatime, so 'last read' is when an entry was written")
    return 0


def run_prune(args) -> int:
    root = check_removable(cache_root())
    entries = cache_entries(root)
    chosen = unused_entries(entries, args.unused_days)
    if not records_reads(root):
        chosen = [e for e in chosen if e.leftover]
        print(f"note: the file system of {root} is mounted noatime and records no reads, so no entry can be called "
              "unused; only killed runs' temp folders are pruned (remove others by name: kllm cache remove KIND/ENTRY)",
              file=sys.stderr)
    for kept in (e for e in entries if e.kept):
        print(f"kept {printable(kept.name)} ({_size(kept.size_bytes)}): {kept.kept}")
    if not chosen:
        print(f"nothing in {root} has gone unread for {_count(args.unused_days, 'day')}")
        return 0
    return _remove(chosen, args.dry_run, root)


def run_remove(args) -> int:
    root = check_removable(cache_root())
    return _remove(find_entries(cache_entries(root), args.names), args.dry_run, root)


def _remove(chosen, dry_run: bool, root) -> int:
    """Remove each entry (an entry that cannot be removed is one error line; the others go on);
    exit code 1 when any failed."""
    verb = "would remove" if dry_run else "removed"
    done, failed = [], 0
    for entry in chosen:
        if not dry_run:
            try:
                remove_entry(entry)
            except OSError as err:
                failed += 1
                print(f"error: cannot remove {printable(entry.name)}: {err.strerror or err}"
                      + (f": {err.filename}" if err.filename else ""), file=sys.stderr)
                continue
        done.append(entry)
        why = "left by a killed run" if entry.leftover else f"last read {days_ago(entry.last_read)}"
        print(f"{verb} {printable(entry.name)} ({_size(entry.size_bytes)}, {why})")
    print(f"{verb} {_count(len(done), 'entry', 'entries')}, {_size(sum(e.size_bytes for e in done))} from {root}"
          + (f"; {failed} could not be removed" if failed else ""))
    return 1 if failed else 0
