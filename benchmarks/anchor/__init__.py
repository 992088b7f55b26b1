"""The code measured against: the roads analysis and road network as they were before issue 19
(copied from main; imported by the benchmarks only, never by the package)."""
