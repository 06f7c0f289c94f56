"""The request gate (crowdfund/request_gate.py): a few requests of a process run at once, one
waiting for the processor lets another run, and it comes back before requests not yet begun."""

import threading
import time

import pytest

from crowdfund import create_app, request_gate
from crowdfund.request_gate import RequestGate


def in_threads(*targets):
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    return threads


def joined(threads):
    for thread in threads:
        thread.join(timeout=10)
    return not any(thread.is_alive() for thread in threads)


def test_no_more_requests_run_at_once_than_its_slots():
    gate, lock = RequestGate(2), threading.Lock()
    running, most = [0], [0]

    def request():
        with gate.inside():
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1

    assert joined(in_threads(*[request] * 8))
    assert most[0] == 2
    assert gate.in_use == 0


def test_many_requests_stepping_in_and_out_all_finish_within_the_slots():
    """No wake-up is lost: 32 threads of requests that wait on the processor half-way, each
    finishing in time, never more than the slots running at once."""
    gate, lock = RequestGate(2), threading.Lock()
    running, most, finished = [0], [0], []

    def count(step):
        with lock:
            running[0] += step
            most[0] = max(most[0], running[0])

    def requests():
        for _ in range(20):
            with gate.inside():
                count(1)
                count(-1)
                with gate.stepped_out():
                    time.sleep(0.001)
                count(1)
                count(-1)
        finished.append(True)

    assert joined(in_threads(*[requests] * 32))
    assert len(finished) == 32 and most[0] <= 2 and gate.in_use == 0


def test_a_request_waiting_for_the_processor_lets_the_next_one_run():
    gate = RequestGate(1)
    at_processor, next_done, order = threading.Event(), threading.Event(), []

    def charging():
        with gate.inside():
            with gate.stepped_out():
                at_processor.set()
                assert next_done.wait(5), "the other request never ran while this one waited"
            order.append("charge answered")

    def next_request():
        at_processor.wait(5)
        with gate.inside():
            order.append("next ran")
        next_done.set()

    assert joined(in_threads(charging, next_request))
    assert order == ["next ran", "charge answered"]


def test_back_from_the_processor_before_requests_not_yet_begun():
    gate = RequestGate(1)
    stepped_out, holder_in, answered, order = threading.Event(), threading.Event(), threading.Event(), []
    release_holder = threading.Event()

    def charging():
        with gate.inside():
            with gate.stepped_out():
                stepped_out.set()
                answered.wait(5)
            order.append("pledge finished")

    def holder():
        stepped_out.wait(5)
        with gate.inside():
            holder_in.set()
            release_holder.wait(5)

    def newcomer():
        holder_in.wait(5)
        with gate.inside():
            order.append("newcomer ran")

    threads = in_threads(charging, holder, newcomer)
    holder_in.wait(5)
    time.sleep(0.05)  # the newcomer is in line
    answered.set()
    time.sleep(0.05)  # and now the pledge back from the processor too
    release_holder.set()
    assert joined(threads)
    assert order == ["pledge finished", "newcomer ran"]


def test_work_inside_a_request_that_calls_the_app_again_does_not_wait_for_itself():
    gate = RequestGate(1)
    done = []

    def request():
        with gate.inside():
            with gate.inside():  # a job run in-process posting to our own WSGI stack
                done.append(True)

    assert joined(in_threads(request))
    assert done == [True] and gate.in_use == 0


def test_stepping_out_outside_a_request_changes_nothing():
    gate = RequestGate(1)
    with gate.stepped_out():  # a job or the CLI calling the processor
        assert gate.in_use == 0
    assert gate.in_use == 0


def test_a_request_not_given_its_slot_back_in_time_goes_on_without_one(monkeypatch):
    monkeypatch.setattr(request_gate, "REJOIN_TIMEOUT", 0.1)
    gate = RequestGate(1)
    stepped_out, release_holder, finished = threading.Event(), threading.Event(), threading.Event()

    def charging():
        with gate.inside():
            with gate.stepped_out():
                stepped_out.set()
                time.sleep(0.05)
            finished.set()  # went on without a slot, while the holder still has it

    def holder():
        stepped_out.wait(5)
        with gate.inside():
            release_holder.wait(5)

    threads = in_threads(charging, holder)
    assert finished.wait(5)
    assert gate.in_use == 1  # the holder's; the one that went on gave back nothing
    release_holder.set()
    assert joined(threads)
    assert gate.in_use == 0


@pytest.mark.parametrize(("slots", "gated"), [(2, True), (0, False)])
def test_the_app_is_gated_unless_web_active_threads_is_zero(tmp_path, slots, gated):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/gate.db", WEB_ACTIVE_THREADS=slots)
    assert (request_gate.EXTENSION in app.extensions) is gated
    if gated:
        assert app.extensions[request_gate.EXTENSION].slots == slots
        assert app.test_client().get("/healthz").status_code == 200
        assert app.extensions[request_gate.EXTENSION].in_use == 0


def test_a_cached_page_goes_out_while_every_slot_is_taken(tmp_path):
    """The page cache's Front sits before the gate: a visitor of a cached page does not wait
    for a pledge in progress."""
    from crowdfund.extensions import db
    from tests.support.builders import live_reward_project
    from tests.support.factories import Factories

    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/front.db", WEB_ACTIVE_THREADS=1, PAGE_CACHE_SECONDS=60
    )
    with app.app_context():
        db.create_all()
        project = live_reward_project(Factories(db), db)
        path, title = f"/p/{project.slug}", project.title
        db.session.remove()
    client = app.test_client()
    first = client.get(path)  # rendered, in a slot, and kept
    assert first.status_code == 200
    gate, held, release, answers = app.extensions[request_gate.EXTENSION], threading.Event(), threading.Event(), []

    def pledge_in_progress():
        with gate.inside():
            held.set()
            release.wait(30)

    def visitor():
        answers.append(app.test_client().get(path))

    holder = in_threads(pledge_in_progress)
    assert held.wait(5) and gate.in_use == 1
    (seeing,) = in_threads(visitor)
    seeing.join(timeout=3)
    waited = seeing.is_alive()
    release.set()
    assert not waited, "the cached page waited for the slot"
    assert joined(holder)
    assert answers[0].status_code == 200 and title in answers[0].get_data(as_text=True)
