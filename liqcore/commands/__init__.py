"""The subcommands of the ``liqcore`` command, one module each.

A subcommand module ``liqcore.commands.<name>`` defines:

- ``HELP``: one line, shown by ``liqcore --help``;
- ``build_parser(prog: str) -> argparse.ArgumentParser``: its options, built with
  :class:`liqcore.commands.common.Parser` (a usage error is one line and exit 2); the help's
  epilog states the exit codes;
- ``run(args: argparse.Namespace) -> int``: does the work and returns the exit code (0 done,
  1 done but the result is bad, 2 an error: bad input, unreachable network or database), printing
  an error as one line on stderr with no traceback (:func:`liqcore.commands.common.fail`) and,
  with ``--json``, only JSON on stdout.

``liqcore.cli`` lists the names and imports a module only when its command runs.
"""
