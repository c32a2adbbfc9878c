"""The cast of roles every test can use.

Two regions, one team each. `rep` and `teammate` are reps of team A (region A) under
`manager`; `outsider` is a rep of team B (region B) under `other_manager`. Records:
`own_customer` (owned by rep), `team_customer` (owned by teammate) and
`other_customer` (owned by outsider, in the other region).
"""

import pytest
from django.utils import translation

from crm.models import User

from .factories import CustomerFactory, RegionFactory, TeamFactory, UserFactory

PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (zh-hans): a request or an override
    that activated another one in this thread must not leak into the next test."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def region_a(db):
    return RegionFactory(name="华东大区")


@pytest.fixture
def region_b(db):
    return RegionFactory(name="华北大区")


@pytest.fixture
def team_a(region_a):
    return TeamFactory(name="山东一组", region=region_a)


@pytest.fixture
def team_b(region_b):
    return TeamFactory(name="河北一组", region=region_b)


@pytest.fixture
def rep(team_a):
    return UserFactory(username="rep", last_name="李", first_name="明", role=User.Role.REP, team=team_a)


@pytest.fixture
def teammate(team_a):
    return UserFactory(username="teammate", last_name="王", first_name="芳", role=User.Role.REP, team=team_a)


@pytest.fixture
def outsider(team_b):
    return UserFactory(username="outsider", last_name="赵", first_name="强", role=User.Role.REP, team=team_b)


@pytest.fixture
def manager(team_a):
    return UserFactory(username="manager", last_name="刘", first_name="洋", role=User.Role.MANAGER, team=team_a)


@pytest.fixture
def other_manager(team_b):
    return UserFactory(username="other_manager", last_name="陈", first_name="静", role=User.Role.MANAGER, team=team_b)


@pytest.fixture
def client_service(db):
    return UserFactory(username="clerk", last_name="孙", first_name="丽", role=User.Role.CLIENT_SERVICE)


@pytest.fixture
def finance(db):
    return UserFactory(username="finance", last_name="周", first_name="敏", role=User.Role.FINANCE)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="boss", last_name="吴", first_name="刚", role=User.Role.ADMIN)


@pytest.fixture
def own_customer(rep):
    return CustomerFactory(owner=rep, name="临沂康达兽药经营部", city="临沂")


@pytest.fixture
def team_customer(teammate):
    return CustomerFactory(owner=teammate, name="潍坊牧原养殖场", city="潍坊", type="farm")


@pytest.fixture
def other_customer(outsider):
    return CustomerFactory(owner=outsider, name="石家庄宠安动物诊所", province="13", city="石家庄", type="clinic")


@pytest.fixture
def login(client, db):
    """login(user) signs the test client in as that user and returns the client. It
    needs the database: a test that takes its user by name (request.getfixturevalue)
    is then a database test from the start, not one that opens a connection late."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
