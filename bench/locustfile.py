"""Locust's fastest user for bench/peers.py: FastHttpUser, no think time, GET /.

Locust spends a second or more importing and spawning, and over HTTPS each
user's first connection builds its own TLS context (slow), before the load is
steady; its --run-time clock starts before all that. So that its figures
cover a steady state like the other tools', this file measures its own
window: it opens when every user has had time for a request (requests >= 2 x
users), lasts LOADD_BENCH_LOCUST_DURATION seconds, then stops Locust, and
writes the window's requests, failures, CPU seconds (getrusage of this
process) and wall seconds to the JSON file LOADD_BENCH_LOCUST_OUT.
"""

import json
import os
import resource
import time

import gevent
from locust import FastHttpUser, constant, events, task

_state = {}


def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@events.init.add_listener
def _init(environment, **_):
    _state["env"] = environment
    if os.environ.get("LOADD_BENCH_LOCUST_OUT"):
        events.request.add_listener(_on_request)


def _on_request(**_):
    env = _state["env"]
    total = env.stats.total
    if env.runner is None or total.num_requests < 2 * max(env.runner.user_count, 1):
        return
    if env.runner.user_count < env.parsed_options.num_users:
        return  # still spawning
    events.request.remove_listener(_on_request)  # no per-request cost in the window
    _state.update(cpu=_cpu(), wall=time.monotonic(), requests=total.num_requests,
                  failures=total.num_failures)
    duration = float(os.environ.get("LOADD_BENCH_LOCUST_DURATION", "5"))
    gevent.spawn_later(duration, env.runner.quit)


@events.test_stopping.add_listener
def _stopping(environment, **_):
    out = os.environ.get("LOADD_BENCH_LOCUST_OUT")
    if not out or "cpu" not in _state:
        return
    total = environment.stats.total
    with open(out, "w") as f:
        json.dump({"cpu": _cpu() - _state["cpu"], "wall": time.monotonic() - _state["wall"],
                   "requests": total.num_requests - _state["requests"],
                   "failures": total.num_failures - _state["failures"]}, f)


class Bench(FastHttpUser):
    wait_time = constant(0)
    insecure = True  # the bench's self-signed certificate

    @task
    def get(self):
        self.client.get("/")
