from syndicate.cli import entry

raise SystemExit(entry())
