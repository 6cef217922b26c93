"""The referral limit is counted in shared storage, so every web worker process sees the same count."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from rj.config import ROOT

REDIS_URL = os.environ.get("RJ_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")

# One "web worker": its own process and app, POSTing the final submit twice from the same address.
WORKER = """
import json, sys
from rj import create_app
app = create_app(json.loads(sys.argv[1]))
client = app.test_client()
print(json.dumps([client.post("/refer/check").status_code for _ in range(2)]))
"""


def _worker(config: dict) -> list[int]:
    out = subprocess.run([sys.executable, "-c", WORKER, json.dumps(config)], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _config(storage: str, prefix: str) -> dict:
    return {
        "ENV_NAME": "test", "TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True, "RATELIMIT_REFERRAL": "3 per hour", "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": prefix,
    }


@pytest.fixture
def redis_prefix():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("RJ_REQUIRE_BROWSER") == "1":  # CI: the services must be there
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"rj-test-{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


@pytest.mark.slow
def test_two_app_processes_using_redis_share_the_referral_limit(redis_prefix):
    config = _config(REDIS_URL, redis_prefix)
    assert _worker(config) == [302, 302]
    assert _worker(config) == [302, 429]  # the second worker sees the first one's two submissions


@pytest.mark.slow
def test_in_memory_storage_would_not_share_counts_between_processes():
    config = _config("memory://", f"rj-test-{uuid.uuid4().hex}")
    assert _worker(config) == [302, 302]
    assert _worker(config) == [302, 302]
