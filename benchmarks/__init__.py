"""Benchmarks that run a real `spark-fed serve` process and measure it from outside.

They are not tests: they print figures beside the limits the project set itself (1,000 accepted
inbox POSTs per second, 80 MiB resident, a 1,000-inbox fan-out drained in 5 s, a home-timeline
page in 20 ms at p95), so a change that costs throughput, memory or latency shows up as a number
rather than as a vague feeling. See benchmarks/README.md.
"""
