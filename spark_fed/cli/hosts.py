"""`spark-fed hosts`: the servers deliveries go to, as the circuit breaker sees them.

An admin asking "why has mastodon.example not had our posts?" gets the answer here: paused
(until when, after how many failures, with the last error) and how many deliveries wait for it.
"""

import argparse
from typing import Any

from ..config import Config
from ..context import open_context
from ..queue.hosts import HostHealth, HostState, host_states
from .output import iso, print_rows

COLUMNS = ["host", "state", "waiting", "failures", "paused_until", "last_error"]


def add_commands(commands: Any) -> None:
    hosts = commands.add_parser(
        "hosts", help="servers with deliveries waiting or failing: state, queue, last error"
    ).add_subparsers(dest="hosts_command", required=True)
    listing = hosts.add_parser("list", help="hosts in trouble first, then those with deliveries waiting")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_list)
    resume = hosts.add_parser("resume", help="end HOST's pause now: its waiting deliveries go at once")
    resume.add_argument("host", help="host[:port], as `hosts list` shows it")
    resume.set_defaults(run=cmd_resume)


def host_row(state: HostState) -> dict[str, Any]:
    return {
        "host": state.host,
        "state": state.state,
        "waiting": state.waiting,
        "failures": state.failures,
        "paused_until": iso(state.paused_until) if state.paused_until else None,
        "last_error": state.last_error,
    }


async def cmd_list(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx:
        states = await host_states(ctx.db)
    rows = [host_row(state) for state in states]
    if not args.json:
        rows = [_readable(row) for row in rows]
    print_rows(rows, COLUMNS, as_json=args.json)
    return 0


async def cmd_resume(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx:
        await HostHealth(ctx.db).recovered(args.host.strip().lower())
    return 0


def _readable(row: dict[str, Any]) -> dict[str, Any]:
    """For the table: dashes for nothing, and the error cut to fit a line."""
    error = row["last_error"] or "-"
    short = error if len(error) <= 60 else error[:59] + "…"
    return {**row, "paused_until": row["paused_until"] or "-", "last_error": short}
