"""The queue's cap as a wait: the work ahead of a request, from each endpoint's measured cost, and a
refused visitor told the wait."""

from __future__ import annotations

import threading
import time

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import ValidationError
from gradio_client.utils import Status

from nst.space.backlog import Backlog
from tests.support.pictures import synthetic
from tests.support.server import serve

LANE = {"concurrency_id": "cpu", "concurrency_limit": 1}


def test_the_wait_is_the_work_waiting_and_left_running_over_the_lanes_jobs():
    backlog = Backlog(limit=10, gatys_seconds=180)
    waiting = [("stylize_gatys", {"seconds": 8}), ("stylize_fast", {"strength": 1.0})]
    assert backlog.wait(LANE, waiting) == pytest.approx(9.0)  # 8 s of Gatys, a picture at 1 s
    assert backlog.refusal(9.0) is None
    waiting.append(("stylize_batch", {"photos": ["a.jpg", "b.jpg", "c.jpg"]}))
    assert backlog.wait(LANE, waiting) == pytest.approx(12.0)
    assert backlog.wait({"concurrency_id": "cpu", "concurrency_limit": 2}, waiting) == pytest.approx(6.0)
    assert "about 12 s of work" in backlog.refusal(12.0) and "under 10 s" in backlog.refusal(12.0)
    assert Backlog(limit=0, gatys_seconds=180).refusal(1e6) is None  # 0: never refused


def test_a_run_counts_while_it_goes_on_and_a_finished_one_teaches_its_cost():
    backlog = Backlog(limit=10, gatys_seconds=180)
    going, release = threading.Event(), threading.Event()

    def stylize_gatys(content: str, seconds: float = 30) -> str:
        going.set()
        release.wait(5)
        return content

    timed = backlog.timed(stylize_gatys, LANE)
    thread = threading.Thread(target=timed, args=("photo.png",), kwargs={"seconds": 6})
    thread.start()
    going.wait(5)
    assert 5.0 < backlog.wait(LANE, []) <= 6.0  # 6 s expected, just begun
    release.set()
    thread.join()
    assert backlog.wait(LANE, []) == 0
    assert backlog.cost["stylize_gatys"] == pytest.approx(0.7, abs=0.02)  # 1 s a second, then 0 s: 0.7

    def stylize_fast(content: str) -> str:
        raise ValueError("not a picture")

    with pytest.raises(ValueError):
        backlog.timed(stylize_fast, LANE)("text.txt")
    assert backlog.cost["stylize_fast"] == 1.0 and backlog.wait(LANE, []) == 0


def test_a_request_behind_too_much_work_is_refused_and_told_the_wait(tmp_path, settings):
    """One job at a time: a 10-s Gatys run going on, then a picture and a second run waiting. Within
    15 s the picture is admitted, the run too; then a picture, behind about 20 s, is refused."""
    synthetic(96, 64).save(tmp_path / "photo.png")
    synthetic(64, 64, seed=1).save(tmp_path / "style.png")
    photo, style = handle_file(str(tmp_path / "photo.png")), handle_file(str(tmp_path / "style.png"))
    gatys = {"content": photo, "style_image": style, "steps": 300, "size": 256, "seconds": 10}
    one_at_a_time = settings(queue_seconds=15, gatys_steps=400, cpu_concurrency=1)  # for this test only
    with serve(one_at_a_time) as url:
        client = Client(url, verbose=False)
        jobs = [client.submit(**gatys, api_name="/stylize_gatys")]
        while not jobs[0].outputs():  # painting
            time.sleep(0.05)
        jobs.append(client.submit(content=photo, style="builtin_03", api_name="/stylize_fast"))
        jobs.append(client.submit(**gatys, api_name="/stylize_gatys"))
        deadline = time.monotonic() + 30
        while any(job.status().code != Status.IN_QUEUE for job in jobs[1:]) and time.monotonic() < deadline:
            time.sleep(0.05)  # both waiting in the queue
        with pytest.raises(ValidationError, match=r"about (1[6-9]|2\d) s of work ahead .* under 15 s"):
            client.predict(content=photo, style="builtin_03", api_name="/stylize_fast")
    # Closing the server ends the runs: their generators are no longer driven.
