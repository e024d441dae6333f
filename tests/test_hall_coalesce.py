"""The booth-update coalescer (rtc/coalesce.py): whatever the interleaving of changes,
builds, Redis deliveries and newcomers, every client ends holding the booth's final state.

The property test drives the pure parts exactly as the server does (Throttle per process,
one stamp counter per booth shared by all processes, batches delivered at once to the
publisher's own sockets and through one ordered channel to the others, `to_deliver` as
the filter), on a virtual clock. The asyncio driver and the whole hall are tested with
real tasks and real socket.io clients below."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rtc import coalesce
from rtc.coalesce import Coalescer, Delivery, LastSent, Latest, Phase, Throttle, to_deliver
from rtc.setup import HALL
from tests.test_hall_socket import employer_socket, hall, student_socket  # noqa: F401

WINDOW = 0.1


@dataclass
class Build:
    stamps: dict[int, int]                # booth -> its stamp
    states: dict[int, int] | None = None  # booth -> its version as loaded


@dataclass
class Process:
    throttle: Throttle = field(default_factory=lambda: Throttle(WINDOW))
    latest: Latest = field(default_factory=Latest)
    last_sent: LastSent = field(default_factory=LastSent)
    due: float | None = None      # when the scheduled build may start
    build: Build | None = None    # the running one
    read: int = 0                 # channel messages consumed
    clients: dict[str, list[int | None]] = field(default_factory=dict)  # room -> each client's state
    starts: list[float] = field(default_factory=list)


class Hall:
    """N processes, B booths, one database (a version per booth) and one channel."""

    def __init__(self, processes: int, booths: int) -> None:
        self.procs = [Process() for _ in range(processes)]
        self.booths = range(booths)
        self.db = {b: 0 for b in self.booths}
        self.counter = {b: 0 for b in self.booths}
        self.channel: list[tuple[int, int, int, list[Delivery]]] = []  # (sender, booth, stamp, items)
        self.now = 0.0

    def room(self, b: int) -> str:
        return f"booth:{b}"

    def changed(self, p: int, b: int) -> None:
        proc = self.procs[p]
        delay = proc.throttle.changed(b, self.now)
        if delay is not None:
            proc.due = self.now + delay

    # ---- the actions ------------------------------------------------------------------

    def change(self, p: int, b: int) -> None:
        self.db[b] += 1  # committed, then the broadcast is asked for
        self.changed(p, b)

    def enter(self, p: int, b: int) -> None:
        """A client connects to process p and watches booth b (on_watch: enter, broadcast)."""
        proc = self.procs[p]
        proc.clients.setdefault(self.room(b), []).append(None)
        proc.last_sent.forget(self.room(b))
        self.changed(p, b)

    def step(self, p: int) -> bool:
        """One step of process p's build: start and stamp, load, publish."""
        proc = self.procs[p]
        build = proc.build
        if build is None:
            if proc.due is None or proc.due > self.now:
                return False
            proc.due = None
            keys = proc.throttle.starting(self.now)
            proc.starts.append(self.now)
            for b in keys:
                self.counter[b] += 1  # next_stamps: Redis INCR
            proc.build = Build({b: self.counter[b] for b in keys})
        elif build.states is None:
            build.states = {b: self.db[b] for b in build.stamps}  # load_booths
        else:
            for b in sorted(build.stamps):
                items = [Delivery("booth", self.room(b), {"version": build.states[b]}, b)]
                self.deliver(p, b, build.stamps[b], items)
                self.channel.append((p, b, build.stamps[b], items))
            proc.build = None
            delay = proc.throttle.finished(self.now)
            if delay is not None:
                proc.due = self.now + delay
        return True

    def deliver(self, p: int, b: int, stamp: int, items: list[Delivery]) -> None:
        proc = self.procs[p]
        for d in to_deliver(proc.latest, proc.last_sent, b, stamp, items,
                            present=lambda room: bool(proc.clients.get(room))):
            members = proc.clients[d.room]
            members[:] = [d.data["version"]] * len(members)

    def receive(self, p: int) -> bool:
        proc = self.procs[p]
        if proc.read >= len(self.channel):
            return False
        sender, b, stamp, items = self.channel[proc.read]
        proc.read += 1
        if sender != p:  # the publisher delivered to its own sockets already
            self.deliver(p, b, stamp, items)
        return True

    def settle(self) -> None:
        """Let time pass and every build and message run to the end."""
        for _ in range(10_000):
            moved = False
            for p, proc in enumerate(self.procs):
                moved |= self.step(p)
                moved |= self.receive(p)
            if not moved:
                if not any(proc.due is not None or proc.build for proc in self.procs):
                    return
                self.now += WINDOW
        raise AssertionError("the hall never settled")


def script(processes: int, booths: int) -> st.SearchStrategy:
    who = st.tuples(st.integers(0, processes - 1), st.integers(0, booths - 1))
    return st.lists(st.one_of(
        who.map(lambda w: ("change", *w)),
        who.map(lambda w: ("enter", *w)),
        who.map(lambda w: ("step", *w)),
        who.map(lambda w: ("step", *w)),
        who.map(lambda w: ("receive", *w)),
        st.sampled_from([0.01, 0.05, 0.1, 0.3]).map(lambda dt: ("wait", dt, 0)),
    ), max_size=80)


# process 0 loads, then process 1 changes the booth and sends twice before process 0's
# older load goes out: without the stamps, process 1's clients would end on that old state
SLOW_LOAD = ((2, 1), [("step", 0, 0), ("step", 0, 0), ("step", 1, 0), ("step", 1, 0),
                      ("step", 1, 0), ("change", 1, 0), ("wait", 0.1, 0), ("step", 1, 0),
                      ("step", 1, 0), ("step", 1, 0), ("step", 0, 0), ("receive", 1, 0),
                      ("receive", 1, 0), ("receive", 1, 0)])


@settings(max_examples=200, deadline=None)
@example(SLOW_LOAD)
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, 2)))
       .flatmap(lambda nb: st.tuples(st.just(nb), script(*nb))))
def test_any_interleaving_ends_with_every_client_holding_the_final_state(drawn):
    (processes, booths), actions = drawn
    hall = Hall(processes, booths)
    for b in hall.booths:  # one watcher of each booth on each process to begin with
        for p in range(processes):
            hall.enter(p, b)
    for action, a, b in actions:
        if action == "wait":
            hall.now += a
        elif action == "change":
            hall.change(a, b)
        elif action == "enter":
            hall.enter(a, b)
        elif action == "step":
            hall.step(a)
        else:
            hall.receive(a)
    hall.settle()
    for proc in hall.procs:
        for b in hall.booths:
            assert proc.clients[hall.room(b)] == [hall.db[b]] * len(proc.clients[hall.room(b)])
        assert proc.throttle.phase is Phase.IDLE
        # one build per window per process, however many changes
        assert all(later - earlier >= WINDOW - 1e-9
                   for earlier, later in itertools.pairwise(proc.starts))


def test_a_burst_is_one_build_and_a_change_during_a_build_makes_exactly_one_more():
    t = Throttle(WINDOW)
    assert t.changed("b1", 10.0) == 0.0  # quiet: at once
    assert t.changed("b2", 10.0) is None  # already scheduled: the same build
    assert t.starting(10.0) == {"b1", "b2"}
    assert t.changed("b1", 10.01) is None  # running: noted
    assert t.changed("b3", 10.02) is None
    assert t.finished(10.03) == pytest.approx(WINDOW - 0.03)  # one more, a window after
    assert t.starting(10.1) == {"b1", "b3"}
    assert t.finished(10.11, failed=["b3"]) == coalesce.RETRY_SECONDS  # tried again, later
    assert t.starting(11.2) == {"b3"}
    assert t.finished(11.21) is None
    assert t.phase is Phase.IDLE
    assert t.changed("b1", 11.25) == pytest.approx(0.05)  # within the window of the last start


def test_an_older_stamp_is_dropped_and_a_repeat_is_skipped_until_someone_enters():
    latest, sent = Latest(), LastSent()
    here = lambda room: room != "user:9"  # noqa: E731
    batch = [Delivery("booth", "booth:1", {"n": 2}, 1), Delivery("queue", "user:5", {"p": 1}, 1),
             Delivery("queue", "user:9", {"p": 2}, 1)]
    assert to_deliver(latest, sent, 1, 2, batch, here) == batch[:2]
    assert to_deliver(latest, sent, 1, 1, [Delivery("booth", "booth:1", {"n": 1}, 1)], here) == []
    assert to_deliver(latest, sent, 1, 3, batch, here) == []  # nothing changed for anyone here
    sent.forget("user:5")  # a second tab of that student connects
    assert to_deliver(latest, sent, 1, 4, batch, here) == [batch[1]]
    # the same student queued at another booth: a place of its own
    other = [Delivery("queue", "user:5", {"p": 1}, 2)]
    assert to_deliver(latest, sent, 2, 1, other, here) == other


async def test_the_driver_coalesces_bursts_and_retries_a_failed_build(monkeypatch):
    monkeypatch.setattr(coalesce, "RETRY_SECONDS", 0.02)
    state = {"a": 0, "b": 0}
    seen: list[dict[str, int]] = []
    failures = iter([True])

    async def build(keys):  # noqa: ANN001
        values = {k: state[k] for k in keys}
        await asyncio.sleep(0.005)  # a load that takes a moment
        if "b" in keys and next(failures, False):
            raise RuntimeError("database hiccup")
        seen.append(values)

    c = Coalescer(0.02, build)
    for _ in range(50):
        for key in state:
            state[key] += 1
            c.changed(key)
        await asyncio.sleep(0.001)
    await c.drain()
    assert [s["a"] for s in seen if "a" in s][-1] == 50
    assert [s["b"] for s in seen if "b" in s][-1] == 50
    assert len(seen) < 50  # far fewer builds than changes
    await c.close()


async def test_a_burst_of_joins_reaches_the_employer_as_its_final_queue(hall, clock):  # noqa: F811
    """Real server, real clients: three joins at once; the employer's last `booth` and
    each student's last `queue` show the final order, and the booth load ran fewer
    times than there were changes."""
    clock.advance(seconds=90)  # the third slot's hall opens too (10 minutes before it)
    emp = await employer_socket(hall)
    await emp.call("watch", {"session_id": hall["session_id"]})
    students = [await student_socket(hall, i) for i in range(3)]
    hall_ns = hall["app"][HALL]
    builds = []
    release = asyncio.Event()
    original = hall_ns._send_booths

    async def held(session_ids):  # noqa: ANN001
        builds.append(session_ids)
        await release.wait()  # the first build is slow: the other joins come during it
        await original(session_ids)
    hall_ns.booths._build = held
    acks = await asyncio.gather(*(s.call("join", {"interview_id": i})
                                  for s, i in zip(students, hall["interview_ids"])))
    assert all(a["ok"] for a in acks), acks
    release.set()
    order = [a["ticket_id"] for a in acks]  # consecutive slots: the order of the invitations
    await emp.events.wait("booth", lambda d: [w["ticket_id"] for w in d["waiting"]] == order)
    for place, s in enumerate(students, start=1):
        await s.events.wait("queue", lambda d, p=place: d.get("position") == p)
    await hall_ns.booths.drain()
    last = [d for name, d in emp.events.seen if name == "booth"][-1]
    assert [w["ticket_id"] for w in last["waiting"]] == order
    for place, s in enumerate(students, start=1):
        mine = [d for name, d in s.events.seen if name == "queue"]
        assert mine[-1]["position"] == place
    # three changes: the build running when they came, and at most one more after it
    assert 1 <= len(builds) <= 2


async def test_a_second_tab_gets_its_place_though_nothing_changed(hall):  # noqa: F811
    s0 = await student_socket(hall, 0)
    ticket = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    await s0.events.wait("queue", lambda d: d.get("position") == 1)
    again = await student_socket(hall, 0)  # the same student's second tab
    seen = await again.events.wait("queue", lambda d: d["ticket_id"] == ticket)
    assert (seen["status"], seen["position"]) == ("waiting", 1)



async def test_after_a_call_the_others_get_their_places_without_waiting_for_the_reload(hall, clock):  # noqa: F811
    """叫号: the other waiters' new places come from the booth the call was decided on, in
    the same transaction, not from the coalesced reload that follows; held here, the
    reload is not needed for the places, and once let go it changes nothing they show."""
    clock.advance(seconds=90)  # all three slots' hall is open
    emp = await employer_socket(hall)
    await emp.call("watch", {"session_id": hall["session_id"]})
    students = [await student_socket(hall, i) for i in range(3)]
    tickets = [(await s.call("join", {"interview_id": i}))["ticket_id"]
               for s, i in zip(students, hall["interview_ids"])]
    for place, s in enumerate(students, start=1):
        await s.events.wait("queue", lambda d, p=place: d.get("position") == p)
    hall_ns = hall["app"][HALL]
    await hall_ns.booths.drain()
    release = asyncio.Event()
    original = hall_ns._send_booths
    reloaded = []

    async def held(session_ids):  # noqa: ANN001
        await release.wait()
        await original(session_ids)
        reloaded.append(session_ids)
    hall_ns.booths._build = held
    ack = await emp.call("call_next", {"session_id": hall["session_id"]})
    assert ack == {"ok": True, "ticket_id": tickets[0]}
    await students[0].events.wait("called", lambda d: d["ticket_id"] == tickets[0])
    for place, s in enumerate(students[1:], start=1):
        got = await s.events.wait("queue", lambda d, p=place: d.get("position") == p
                                  and d["status"] == "waiting")
        assert got["ticket_id"] == tickets[place]
    head = await students[0].events.wait("queue", lambda d: d["status"] == "called")
    assert head["ticket_id"] == tickets[0] and "position" not in head
    assert reloaded == []  # the places did not wait for it
    before = {id(s): len(s.events.seen) for s in students[1:]}
    release.set()
    await hall_ns.booths.drain()
    assert reloaded == [[hall["session_id"]]]
    booth = await emp.events.wait("booth", lambda d: d["current"] is not None)
    assert booth["current"]["ticket_id"] == tickets[0]
    assert [w["ticket_id"] for w in booth["waiting"]] == tickets[1:]
    for s in students[1:]:  # the reload repeated their places: nothing more was sent
        assert [n for n, _ in s.events.seen[before[id(s)]:] if n == "queue"] == []
