"""The benchmark's reading of wrk's summary (a real wrk 4.1 --latency output)."""

from __future__ import annotations

import pytest
from devtools import wrk

OUTPUT = """Running 5s test @ http://127.0.0.1:18097/movies
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    68.04ms   81.48ms    1.23s    86.62%
    Req/Sec   358.82    279.05     0.99k    65.31%
  Latency Distribution
     50%  850.00us
     75%   80.12ms
     90%  150.40ms
     99%    1.02s
  3527 requests in 5.04s, 7.98MB read
  Socket errors: connect 0, read 12, write 3, timeout 1
  Non-2xx or 3xx responses: 40
Requests/sec:    700.07
Transfer/sec:      1.58MB
"""


def test_parse_reads_rate_percentiles_in_ms_and_all_errors() -> None:
    result = wrk.parse(OUTPUT)
    assert result == wrk.Result(
        requests_per_second=700.07, p50_ms=0.85, p99_ms=1020.0, requests=3527, errors=56
    )


def test_parse_refuses_output_it_does_not_understand() -> None:
    with pytest.raises(ValueError, match="cannot read wrk output"):
        wrk.parse("wrk: connection refused\n")
