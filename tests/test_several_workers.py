"""Several workers share state through Redis: sign-in limits hold across all of them."""

import pytest

from forum.accounts import services
from forum.errors import InvalidInput


def test_failed_sign_ins_count_across_workers_through_redis(make_app, redis_url, personas):
    limits = {"RATELIMIT_STORAGE_URI": redis_url,
              "FORUM_LOGIN_LIMIT_PER_ACCOUNT": "5/15minute"}  # five addresses, one account
    worker_a, worker_b = make_app(**limits), make_app(**limits)
    for n in range(5):
        worker = worker_a if n % 2 else worker_b
        with worker.app_context(), pytest.raises(InvalidInput):
            services.authenticate("member@example.org", "wrong-password", f"10.1.0.{n}")
    with worker_a.app_context(), pytest.raises(services.TooManyAttempts):
        services.authenticate("member@example.org", "Lipowa-aleja-pachnie-2026", "10.2.0.1")


def test_without_redis_each_worker_counts_alone(make_app, personas):
    limits = {"FORUM_LOGIN_LIMIT_PER_ACCOUNT": "5/15minute"}
    worker_a, worker_b = make_app(**limits), make_app(**limits)
    for n in range(5):
        with worker_a.app_context(), pytest.raises(InvalidInput):
            services.authenticate("member@example.org", "wrong-password", f"10.1.0.{n}")
    with worker_b.app_context():
        assert services.authenticate("member@example.org", "Lipowa-aleja-pachnie-2026",
                                     "10.2.0.1")
