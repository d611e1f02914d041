"""Benchmarks that print numbers (not tests).

* ``python -m bench.generate --accounts N`` — bulk-load synthetic accounts, contacts,
  opportunities and activities until the database holds N accounts.
* ``python -m bench.run [--accounts N] [--skip-generate] [--repeat 200]`` — generate if
  needed, then time the account API through the full Django stack.

See ``bench/README.md``.
"""
