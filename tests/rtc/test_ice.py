import base64
import dataclasses
import datetime as dt
import hashlib
import hmac

from aiortc import RTCConfiguration, RTCIceServer

from app.config import Settings
from rtc.ice import ice_servers, rtc_configuration

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone.utc)


def settings(tmp_path, **env: str) -> Settings:
    return Settings.from_env({"DATA_DIR": str(tmp_path), "SECRET_KEY": "k", **env})


def test_nothing_configured_gives_no_servers(tmp_path):
    s = settings(tmp_path)
    assert s.stun_urls == () and s.turn_urls == () and s.turn_ttl_seconds == 3600
    assert ice_servers(s, 7, NOW) == []
    assert rtc_configuration([]) == RTCConfiguration(iceServers=[])


def test_stun_urls_are_split_and_trimmed(tmp_path):
    s = settings(tmp_path, STUN_URLS=" stun:a.example.cn:3478 ,stun:b.example.cn,")
    assert ice_servers(s, 7, NOW) == [{"urls": ["stun:a.example.cn:3478", "stun:b.example.cn"]}]


def test_turn_login_is_coturns_rest_form(tmp_path):
    s = settings(tmp_path, STUN_URLS="stun:t.example.cn",
                 TURN_URLS="turn:t.example.cn:3478?transport=udp,turns:t.example.cn:5349",
                 TURN_SECRET="north-wind", TURN_TTL_SECONDS="600")
    stun, turn = ice_servers(s, 42, NOW)
    assert stun == {"urls": ["stun:t.example.cn"]}
    expiry = 1780304400 + 600  # 2026-06-01T09:00:00Z is 1780304400
    assert int(NOW.timestamp()) == 1780304400
    assert turn["urls"] == ["turn:t.example.cn:3478?transport=udp", "turns:t.example.cn:5349"]
    assert turn["username"] == f"{expiry}:42"
    # computed here independently: base64 of HMAC-SHA1(secret, username)
    expected = base64.b64encode(hmac.digest(b"north-wind", f"{expiry}:42".encode(), "sha1")).decode()
    assert turn["credential"] == expected
    # and against a fixed value, so a change in encoding (hex, urlsafe, sha256) shows
    assert hashlib.sha1().digest_size == 20 and len(base64.b64decode(expected)) == 20
    assert turn["credential"] == base64.b64encode(
        hmac.new(b"north-wind", b"1780305000:42", hashlib.sha1).digest()).decode()


def test_turn_needs_a_secret(tmp_path):
    s = settings(tmp_path, TURN_URLS="turn:t.example.cn")
    assert ice_servers(s, 1, NOW) == []


def test_credentials_expire_with_the_clock(tmp_path):
    s = dataclasses.replace(settings(tmp_path), turn_urls=("turn:t",), turn_secret="x")
    later = ice_servers(s, 1, NOW + dt.timedelta(seconds=10))[0]["username"]
    assert later == f"{int(NOW.timestamp()) + 3610}:1"


def test_aiortc_configuration_carries_the_logins(tmp_path):
    s = settings(tmp_path, STUN_URLS="stun:t.example.cn", TURN_URLS="turn:t.example.cn",
                 TURN_SECRET="x")
    servers = ice_servers(s, 3, NOW)
    config = rtc_configuration(servers)
    assert config.iceServers == [
        RTCIceServer(urls=["stun:t.example.cn"]),
        RTCIceServer(urls=["turn:t.example.cn"], username=servers[1]["username"],
                     credential=servers[1]["credential"]),
    ]
