"""Benchmarks that run a real `spark-fed serve` process and measure it from outside.

They are not tests: they print figures beside the limits the project set itself (1,000 accepted
inbox POSTs per second, 80 MiB resident), so a change that costs throughput or memory shows up as
a number rather than as a vague feeling. See benchmarks/README.md.
"""
