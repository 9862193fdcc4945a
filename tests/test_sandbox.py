"""The worker process, forked or spawned: isolated start, limits, timeouts, crashes and captured output."""

from __future__ import annotations

import os

import pytest

from grader.limits import Limits
from grader.sandbox import Worker, WorkerCrashed, WorkerTimeout, describe_exit

PROBE = b'''
import os, sys, resource
def env():
    return dict(os.environ)
def cwd_files():
    return sorted(os.listdir("."))
def rlimits():
    return {name: list(resource.getrlimit(getattr(resource, name))) for name in ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CPU")}
def flags():
    return {"isolated": sys.flags.isolated, "no_user_site": sys.flags.no_user_site, "ignore_environment": sys.flags.ignore_environment}
def spin():
    while True:
        pass
def die():
    os._exit(3)
def shout(n):
    os.write(1, b"x" * n)
    print("y" * n)
    return n
SEEN = []
def record(i):
    SEEN.append(i)
    if i == "boom":
        raise ValueError("boom")
    if i == "hang":
        while True:
            pass
    if i == "object":
        return object()
    return i * 2
def seen():
    return list(SEEN)
def pair(x):
    return x + 1, [x]
def unpair(y, box):
    box.append(y)
    return box
'''


@pytest.fixture(params=["fork", "spawn"])
def worker(monkeypatch, request):
    """A worker forked from the fork server, and one spawned as a fresh interpreter: both must hold."""
    monkeypatch.setenv("GRADER_TEST_SECRET", "do-not-leak")
    monkeypatch.setenv("GRADER_WORKER_START", request.param)
    monkeypatch.setenv("GRADER_DEVICE", "cpu")  # CPU workers' limits, also where a GPU is present
    with Worker({"probe.py": PROBE}, Limits(output_kb=4)) as w:
        w.wait_ready()
        assert w.forked == (request.param == "fork")
        assert w.request({"op": "import", "module": "probe"}, 10)["ok"]
        yield w


def call(w, name, *args, timeout=10.0):
    return w.request({"op": "call", "target": f"probe:{name}", "args": list(args)}, timeout)


def test_worker_runs_isolated_in_a_temporary_directory_with_a_minimal_environment(worker):
    env = call(worker, "env")["value"]
    assert "GRADER_TEST_SECRET" not in env  # set in this process's environment by the fixture
    # torch itself may add TORCH* variables in-process (e.g. its inductor cache dir); nothing else.
    assert {k for k in env if not k.startswith("TORCH")} <= {"PATH", "HOME", "TMPDIR", "LANG",
                        "OMP_NUM_THREADS", "MKL_NUM_THREADS", "LC_CTYPE", "PWD"}
    assert env["HOME"] == worker.dir != os.getcwd()
    assert call(worker, "cwd_files")["value"] == ["probe.py"]
    assert call(worker, "flags")["value"] == {"isolated": 1, "no_user_site": 1, "ignore_environment": 1}


def test_rlimits_are_set(worker):
    limits = call(worker, "rlimits")["value"]
    assert limits["RLIMIT_AS"][0] == 4096 << 20
    assert limits["RLIMIT_FSIZE"][0] == 16 << 20
    assert limits["RLIMIT_NOFILE"][0] == 256
    soft, hard = limits["RLIMIT_CPU"]
    # Per call: CPU used so far + 20 s; per worker: CPU used at start-up + 600 s. What start-up
    # used differs by machine (a CUDA build of torch takes seconds), so compare the two.
    assert soft > 20 and hard > 600 and 575 <= hard - soft <= 580


def test_timeout_kills_the_worker(worker):
    with pytest.raises(WorkerTimeout, match="no answer within 1 s"):
        call(worker, "spin", timeout=1)
    assert not worker.alive


def test_crash_is_reported_with_the_exit_status(worker):
    with pytest.raises(WorkerCrashed, match="exited with status 3"):
        call(worker, "die")


def test_output_is_captured_per_call_and_truncated(worker):
    reply = call(worker, "shout", 100_000)
    assert reply["value"] == 100_000
    assert len(reply["output"]) < 9000 and "more characters of output were dropped" in reply["output"]
    assert "more bytes of output were dropped" in worker.output() or len(worker.output()) <= 4096


def many(w, values, timeout=10.0):
    calls = [{"kwargs": {"i": v}} for v in values]
    return w.request_many({"op": "call_many", "target": "probe:record", "calls": calls}, len(calls), timeout, 60)


def test_call_many_answers_every_call_in_order_in_a_few_frames(worker):
    replies = many(worker, list(range(200)))
    assert [r["value"] for r in replies] == [2 * i for i in range(200)]
    assert call(worker, "seen")["value"] == list(range(200))


def test_call_many_stops_at_the_first_error(worker):
    replies = many(worker, [1, 2, "boom", 4])
    assert [r.get("value") for r in replies[:2]] == [2, 4]
    assert len(replies) == 3 and replies[2]["error"]["type"] == "ValueError"
    assert call(worker, "seen")["value"] == [1, 2, "boom"]  # 4 never ran


def test_call_many_refuses_a_value_it_cannot_send_and_stops(worker):
    replies = many(worker, [1, "object", 3])
    assert len(replies) == 2 and replies[1]["error"]["type"] == "OutputRefused"
    assert replies[0]["value"] == 2
    # A value is found unsendable when its frame is packed, so a call in the same frame may
    # have run after it; its reply is dropped, and the worker still answers.
    assert call(worker, "seen")["value"][:2] == [1, "object"]


def test_call_many_holds_each_call_to_its_own_clock(worker):
    import time

    t0 = time.perf_counter()
    with pytest.raises(WorkerTimeout):
        many(worker, [1, 2, "hang", 4], timeout=1.0)
    assert time.perf_counter() - t0 < 3  # one call's clock, not four
    assert not worker.alive


def chain(w, inputs, second=("unpair", {"y": "out[0]", "box": "out[1]"})):
    """``pair`` then ``unpair`` (or ``second``) on each input set, in one request."""
    calls = []
    for n in range(len(inputs)):
        calls += [{"set": n, "target": "probe:pair", "kwarg_refs": {"x": "x"}, "save": "out"},
                  {"set": n, "target": f"probe:{second[0]}", "kwarg_refs": second[1]}]
    return w.request_many({"op": "call_many", "calls": calls, "inputs": inputs}, len(calls), 10, 60)


def test_a_chain_passes_results_inside_the_worker_one_namespace_per_input_set(worker):
    replies = chain(worker, [{"x": 1}, {"x": 10}])
    assert [r["value"] for r in replies] == [(2, [1]), [1, 2], (11, [10]), [10, 11]]


def test_a_chain_that_needs_an_item_a_result_lacks_says_which_function_returned_what(worker):
    replies = chain(worker, [{"x": 1}], second=("unpair", {"y": "out[0]", "box": "out[2]"}))
    assert len(replies) == 2 and replies[1]["error"]["type"] == "WrongResult"
    assert replies[1]["error"]["message"].startswith("unpair needs item 2 of what pair returns, but it returned a "
                                                     "tuple of 2")


def test_describe_exit_names_limits():
    assert describe_exit(-24).endswith("(CPU time limit)")
    assert describe_exit(2) == "exited with status 2"
    assert describe_exit(None) == "stopped answering"
