"""The hall's socket manager keeps each socket's rooms beside python-socketio's own map
(rtc/sockets.py), so that a disconnect does not scan every room of the namespace. Whatever
sockets enter, leave, get closed out of or disconnect from, the rooms must be exactly what
python-socketio's own manager would hold."""

from __future__ import annotations

import engineio
import pytest
import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.sockets import LocalManager

NS = ("/hall", "/monitor")
SIDS = [f"s{i}" for i in range(6)]
ROOMS = ["user:1", "user:2", "booth:7", "call:3", "session:ab"]

op = st.one_of(
    st.tuples(st.just("connect"), st.sampled_from(SIDS), st.sampled_from(NS)),
    st.tuples(st.just("enter"), st.sampled_from(SIDS), st.sampled_from(NS), st.sampled_from(ROOMS)),
    st.tuples(st.just("leave"), st.sampled_from(SIDS), st.sampled_from(NS), st.sampled_from(ROOMS)),
    st.tuples(st.just("close"), st.sampled_from(ROOMS), st.sampled_from(NS)),
    st.tuples(st.just("merge"), st.sampled_from(ROOMS), st.sampled_from(ROOMS), st.sampled_from(NS)),
    st.tuples(st.just("disconnect"), st.sampled_from(SIDS), st.sampled_from(NS)),
)


def _apply(manager: socketio.AsyncManager, step: tuple, connected: set) -> None:
    kind = step[0]
    if kind == "connect":
        _, sid, ns = step
        if (sid, ns) in connected:
            return
        connected.add((sid, ns))
        manager.basic_enter_room(sid, ns, None, eio_sid=f"e-{sid}")  # what pre_connect does
        manager.basic_enter_room(sid, ns, sid, eio_sid=f"e-{sid}")
    elif kind == "enter":
        _, sid, ns, room = step
        if (sid, ns) in connected:
            manager.basic_enter_room(sid, ns, room)
    elif kind == "leave":
        _, sid, ns, room = step
        manager.basic_leave_room(sid, ns, room)
    elif kind == "close":
        _, room, ns = step
        manager.basic_close_room(room, ns)
    elif kind == "merge":
        _, source, target, ns = step
        if source != target:
            for sid, eio_sid in list(manager.get_participants(ns, source)):
                manager.basic_enter_room(sid, ns, target, eio_sid=eio_sid)
    elif kind == "disconnect":
        _, sid, ns = step
        connected.discard((sid, ns))
        manager.basic_disconnect(sid, ns)


def _state(manager: socketio.AsyncManager) -> dict:
    return {ns: {room: dict(members) for room, members in rooms.items()}
            for ns, rooms in manager.rooms.items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(op, max_size=60))
def test_any_sequence_leaves_the_rooms_the_library_would(steps):
    ours, theirs = LocalManager(), socketio.AsyncManager()
    for manager in (ours, theirs):
        socketio.AsyncServer(client_manager=manager)  # attaches the manager to a server
    connected_ours: set = set()
    connected_theirs: set = set()
    for step in steps:
        _apply(ours, step, connected_ours)
        _apply(theirs, step, connected_theirs)
        assert _state(ours) == _state(theirs), step
        for sid in SIDS:
            for ns in NS:
                assert sorted(ours.get_rooms(sid, ns)) == sorted(theirs.get_rooms(sid, ns)), (sid, ns)
    # and nothing of a disconnected socket is left in the index
    for (ns, sid) in ours._rooms_of:
        assert (sid, ns) in connected_ours or any(sid in members for members in
                                                  ours.rooms.get(ns, {}).values())


def test_a_thousand_disconnects_look_only_at_their_own_rooms(monkeypatch):
    """The point of the index: a disconnect looks at the socket's own rooms, not at every
    room of the namespace. Counted, not timed: membership tests on the room maps (the
    library's own disconnect makes one per room of the namespace: here 2,050 per socket)."""
    from bidict import bidict

    from socketio import base_manager
    probes = []

    class CountedRoom(bidict):
        def __contains__(self, key):  # noqa: ANN001, ANN204
            probes.append(key)
            return super().__contains__(key)
    monkeypatch.setattr(base_manager, "bidict", CountedRoom)
    ours = LocalManager()
    socketio.AsyncServer(client_manager=ours)
    n = 1000
    for i in range(n):
        sid = f"s{i}"
        ours.basic_enter_room(sid, "/hall", None, eio_sid=f"e{i}")
        ours.basic_enter_room(sid, "/hall", sid, eio_sid=f"e{i}")
        ours.basic_enter_room(sid, "/hall", f"user:{i}")
        ours.basic_enter_room(sid, "/hall", f"booth:{i % 50}")
    probes.clear()
    for i in range(n):
        ours.basic_disconnect(f"s{i}", "/hall")
    assert ours.rooms == {} and ours._rooms_of == {}
    assert len(probes) <= 4 * n, len(probes)  # at most one look per room of the socket


class _Recorder:
    """What a manager's emit hands to the server: (engine.io sid, encoded packet)."""
    packet_class = socketio.packet.Packet

    def __init__(self, closed: frozenset[str] = frozenset()) -> None:
        self.sent: list[tuple[str, object]] = []
        self.closed = closed

    async def _send_eio_packet(self, eio_sid: str, pkt: object) -> None:
        if eio_sid in self.closed:
            raise engineio.exceptions.SocketIsClosedError()
        self.sent.append((eio_sid, pkt.encode()))


def _members(manager: socketio.AsyncManager) -> None:
    for i, sid in enumerate(SIDS):
        manager.basic_enter_room(sid, "/hall", None, eio_sid=f"e-{sid}")
        manager.basic_enter_room(sid, "/hall", "booth:7" if i % 2 else "user:1", eio_sid=f"e-{sid}")


@pytest.mark.parametrize("room,skip,data", [
    ("booth:7", None, {"position": 3}), ("user:1", "s2", {"a": [1, 2]}), (None, ["s1", "s4"], None),
    ("booth:7", None, ("two", "args")), ("nobody", None, {"x": 1})])
async def test_emit_here_sends_what_the_library_sends(room, skip, data):
    """The hall's one-turn emit (no task per recipient) sends each recipient the packet
    python-socketio's own emit sends, to the same recipients."""
    ours, theirs = LocalManager(), socketio.AsyncManager()
    sent = []
    for manager in (ours, theirs):
        server = _Recorder()
        manager.set_server(server)
        _members(manager)
        await (socketio.AsyncManager.emit(manager, "queue", data, "/hall", room=room,
                                          skip_sid=skip)
               if manager is theirs else manager.emit("queue", data, "/hall", room=room,
                                                      skip_sid=skip))
        sent.append(sorted(server.sent))
    assert sent[0] == sent[1]
    assert sent[0] or room == "nobody"


async def test_emit_here_goes_on_past_a_closed_socket():
    manager = LocalManager()
    server = _Recorder(closed=frozenset({"e-s1"}))
    manager.set_server(server)
    _members(manager)
    await manager.emit("queue", {"position": 1}, "/hall", room="booth:7")
    assert [eio for eio, _ in server.sent] == ["e-s3", "e-s5"]
