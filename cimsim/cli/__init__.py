"""The ``cimsim`` command line (click).

Each command lives in its own module under ``cimsim.cli`` and is imported only when it runs, so
``cimsim --help`` stays fast. Every user error becomes one line on stderr and exit status 2.
"""
from __future__ import annotations

import importlib
import sys

import click

from ..errors import CimsimError

#: command name -> "module:attribute" under cimsim.cli
COMMANDS: dict[str, str] = {
    "solve": "solve:solve",
    "anneal": "anneal:anneal",
    "landscape": "landscape:landscape",
    "phase-diagram": "landscape:phase_diagram",
    "plot": "plot:plot",
    "sample": "sample:sample",
    "solvers": "solvers:solvers",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="cimsim", message="cimsim %(version)s")
def cli() -> None:
    """cimsim: coherent Ising machine simulator and solver for Ising-encoded NP problems.

    \b
    Examples:
      cimsim solve maxcut problems/G1.txt --target 11624
      cimsim solve sat problems/uf20-01.cnf --solver sa --json -
      cimsim solve maxcut problems/G1.txt --solver cac --time-limit 30 --target 11624
      cimsim sample maxcut problems/graph16.txt --solver cfc --samples 20000 --every 5 --json s.json
      cimsim anneal --sk 200 --sweep steps=100,300,1000 --runs 100 --out study
      cimsim landscape --n 500 --a -0.5 --json out.json --plots figs
      cimsim phase-diagram --n 400 --a-min -2.2 --a-max 0.2 --a-steps 13 --out pd
    """


def fail(message: str, code: int = 2) -> "None":
    """Print ``cimsim: error: message`` (one line) and exit with ``code``."""
    click.echo(f"cimsim: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the group, turning user errors into one line and exit status 2."""
    try:
        rc = cli.main(args=argv, prog_name="cimsim", standalone_mode=False)
    except click.exceptions.Abort:
        fail("interrupted", 130)
    except click.ClickException as exc:
        # usage errors too are one line: what is wrong, and where to read more
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        fail(" ".join(exc.format_message().split()) + hint, exc.exit_code if exc.exit_code else 2)
    except CimsimError as exc:
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except MemoryError:
        fail("out of memory: the problem is too large for this machine (try a sparse matrix or fewer replicas)")
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:
        sys.exit(1)
    except OSError as exc:
        if exc.filename is None:
            raise
        # a path the user named that the file system refuses (a name too long, no permission, a full disk)
        from .common import path_error

        fail(str(path_error(exc.filename, exc)))
    sys.exit(rc if isinstance(rc, int) else 0)
