"""The commit's pipe (crm.imports.bulk.Pipe): COPYs sent by a thread of their own in the
order the code makes them, errors that surface where they belong, and the customer
importer's lookups that run ahead of the previous chunk's COPYs still finding what
earlier chunks created when they need it. Also the search fields the importer computes
in Python, and the ones it leaves to the database."""

import sys

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from crm.imports.bulk import PIPE_SWITCH_INTERVAL, CopyInsert, Pipe, array_literal
from crm.models import AuditEvent
from customers import services
from customers.importers.customers import CustomerImporter
from customers.models import Contact, Customer
from tests.factories import CustomerFactory

from .conftest import write_csv
from .test_customers import HEADER, row

NO_CODES = ["客户名称", "客户类型", "行业", "省份", "城市", "业务员", "联系人", "联系电话", "员工数"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _copy_customer(customer, **values):
    writer = CopyInsert(Customer, ids=False)
    row_values = {
        "name": customer.name,
        "type": customer.type,
        "industry": customer.industry,
        "province": customer.province,
        "city": customer.city,
        "owner_id": customer.owner_id,
        **values,
    }
    writer.add(row_values)
    writer.flush()


def test_a_statement_waits_for_the_copies_before_it(db, own_customer):
    with transaction.atomic(), Pipe.open() as pipe:
        _copy_customer(own_customer, code="KH990001")
        assert pipe.kept  # not sent yet
        # Any query sends what is kept and waits for it: it sees the row.
        assert Customer.objects.filter(code="KH990001").exists()
        assert not pipe.kept


def test_a_lookup_ahead_runs_before_the_copies_kept(db, own_customer):
    with transaction.atomic(), Pipe.open() as pipe:
        _copy_customer(own_customer, code="KH990002")
        pipe.ahead = True
        assert not Customer.objects.filter(code="KH990002").exists()
        pipe.ahead = False
        assert Customer.objects.filter(code="KH990002").exists()


def test_a_failed_copy_raises_in_the_block_and_the_transaction_is_undone(db, own_customer):
    with pytest.raises(IntegrityError), transaction.atomic(), Pipe.open():
        _copy_customer(own_customer, code="KH990003")
        _copy_customer(own_customer, code=own_customer.code)  # taken: unique violation
    assert not Customer.objects.filter(code="KH990003").exists()
    assert Customer.objects.count() == 1


def test_foreign_keys_are_checked_when_each_batch_ends(db, own_customer):
    with pytest.raises(IntegrityError), transaction.atomic(), Pipe.open() as pipe:
        writer = CopyInsert(Contact)
        writer.add({"customer_id": own_customer.pk + 1000, "name": "张三"})
        writer.flush()
        pipe.sync()
        raise AssertionError("the missing customer was not noticed when the batch ended")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # the connection is usable again


def test_a_pipe_shortens_the_switch_interval_while_open_and_restores_it_however_it_ends(db, own_customer):
    before = sys.getswitchinterval()
    assert before > PIPE_SWITCH_INTERVAL
    with transaction.atomic(), Pipe.open():
        assert sys.getswitchinterval() == pytest.approx(PIPE_SWITCH_INTERVAL)
        with Pipe.open():  # two open at once: the first one's close does not restore it
            pass
        assert sys.getswitchinterval() == pytest.approx(PIPE_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before
    with pytest.raises(IntegrityError), transaction.atomic(), Pipe.open():
        _copy_customer(own_customer, code=own_customer.code)  # taken: unique violation
    assert sys.getswitchinterval() == before


@pytest.mark.parametrize(
    "items",
    [
        ["KH000001", "临沂康达兽药经营部", "山东"],
        ['带"引号"的名称', "back\\slash", "{braces}", "a,b", "two words", "NULL", "null", "", "tab\there", "\u0001"],
        [],
    ],
)
def test_an_array_literal_reaches_the_database_as_the_list_it_was(db, items):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [array_literal(items)])
        assert cursor.fetchone()[0] == items


def test_history_changes_reach_the_database_as_they_were(db, own_customer):
    changes = {"address": [None, '路\\1号\t"东门"\n二楼\r'], "name": ["旧\\名", "新名"], "staff": [1, 2]}
    writer = CopyInsert(AuditEvent, ids=False)
    writer.add({"action": "update", "object_type": "customer", "object_id": own_customer.pk, "changes": changes})
    writer.flush()
    assert AuditEvent.objects.get(object_id=own_customer.pk, object_type="customer", action="update").changes == changes


@pytest.fixture
def chunks_of_two(monkeypatch):
    monkeypatch.setattr(CustomerImporter, "chunk_size", 2)


def test_a_row_matched_by_name_finds_a_customer_an_earlier_chunk_created(tmp_path, run_import, rep, chunks_of_two):
    rows = [
        HEADER,
        row(code="KH900001", name="临沂康达兽药经营部", credit=""),
        row(code="KH900002", name="潍坊牧原", credit=""),
        # The third row is the next chunk's, with neither code: matched on name and city.
        ["", "临沂康达兽药经营部", "经销商", "兽药", "山东", "临沂", "", "李明", "张三", "13812345678", "", "", "30"],
    ]
    job = run_import(write_csv(tmp_path / "c.csv", rows))
    assert job.counts == {"created": 2, "updated": 1, "unchanged": 0, "rejected": 0}, job.report
    customer = Customer.objects.get(name="临沂康达兽药经营部")
    assert customer.staff == 30
    assert AuditEvent.objects.filter(batch=job.batch, object_type="customer", object_id=customer.pk).count() == 2


def test_a_row_naming_a_code_drawn_for_an_earlier_row_updates_that_customer(tmp_path, run_import, rep, chunks_of_two):
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('customers_customer_code_seq', 899999)")
    rows = [
        NO_CODES,
        ["临沂康达兽药经营部", "经销商", "兽药", "山东", "临沂", "李明", "张三", "13812345678", "12"],
        ["潍坊牧原", "养殖场", "兽药", "山东", "潍坊", "李明", "李四", "13912345678", "8"],
    ]
    first = run_import(write_csv(tmp_path / "a.csv", rows))
    assert first.counts["created"] == 2
    assert set(Customer.objects.values_list("code", flat=True)) == {"KH900000", "KH900001"}
    # A file whose first row gets the next drawn code and whose third row names it.
    rows = [
        ["客户编码", *NO_CODES],
        ["", "青岛宏达兽药店", "经销商", "兽药", "山东", "青岛", "李明", "王五", "13712345678", "5"],
        ["KH900004", "烟台牧业", "养殖场", "兽药", "山东", "烟台", "李明", "赵六", "13612345678", "6"],
        ["KH900002", "青岛宏达兽药店", "经销商", "兽药", "山东", "青岛", "李明", "王五", "13712345678", "7"],
    ]
    job = run_import(write_csv(tmp_path / "b.csv", rows))
    assert job.counts == {"created": 2, "updated": 1, "unchanged": 0, "rejected": 0}, job.report
    assert Customer.objects.get(code="KH900002").staff == 7


def test_ids_are_drawn_once_per_table_for_the_whole_file(tmp_path, upload, rep, chunks_of_two):
    """Not once a chunk: such a query waits for the COPYs in flight."""
    from crm.imports import engine
    from tests.factories import valid_credit_code

    rows = [HEADER, *(row(code=f"KH90{n:04d}", credit=valid_credit_code(900 + n), name=f"客户{n}") for n in range(7))]
    job = upload(write_csv(tmp_path / "c.csv", rows))
    with CaptureQueriesContext(connection) as captured:
        engine.job_commit(job=job)
    assert job.counts["created"] == 7
    drawn = [q["sql"] for q in captured.captured_queries if "pg_get_serial_sequence" in q["sql"]]
    assert len(drawn) == 2 and {"customers_customer" in sql for sql in drawn} == {True, False}
    assert Customer.objects.count() == 7 and Contact.objects.values("customer").distinct().count() == 7


def test_the_first_chunk_is_smaller_so_that_the_database_starts_sooner(tmp_path, upload, rep, monkeypatch):
    from crm.imports import engine
    from tests.factories import valid_credit_code

    monkeypatch.setattr(CustomerImporter, "chunk_size", 5)
    monkeypatch.setattr(CustomerImporter, "first_chunk_size", 2)
    sizes = []
    plan = CustomerImporter.plan
    monkeypatch.setattr(
        CustomerImporter, "plan", lambda self, records, run: sizes.append(len(records)) or plan(self, records, run)
    )
    rows = [HEADER, *(row(code=f"KH90{n:04d}", credit=valid_credit_code(900 + n), name=f"客户{n}") for n in range(13))]
    job = engine.job_commit(job=upload(write_csv(tmp_path / "c.csv", rows)))
    assert sizes == [2, 5, 5, 1]
    assert job.counts["created"] == 13 and Customer.objects.count() == 13


def test_search_fields_the_database_must_compute_are_computed_there(tmp_path, run_import, rep):
    # Python lowers Ä and İ (and Σ at a word's end) otherwise than a database's locale
    # may; a tab is whitespace to one and maybe not the other.
    names = ["ÄRZTE兽药店", "İSTANBUL牧业", "ΟΔΟΣ养殖场", "康达\t兽药", "临沂康达兽药经营部"]
    rows = [NO_CODES] + [
        [name, "经销商", "兽药", "山东", "临沂", "李明", "张三", f"138123456{i:02d}", ""]
        for i, name in enumerate(names)
    ]
    job = run_import(write_csv(tmp_path / "c.csv", rows, encoding="utf-8-sig"))
    assert job.counts["created"] == 5, job.report
    customers = list(Customer.objects.order_by("pk"))
    stored = [(c.search_text, sorted(c.search_tokens), c.completeness) for c in customers]
    services.refresh_derived([c.pk for c in customers])
    again = [(c.search_text, sorted(c.search_tokens), c.completeness) for c in Customer.objects.order_by("pk")]
    assert stored == again
    assert Customer.objects.search("兽药").count() == 3


def test_an_existing_customer_keeps_its_code_when_a_later_chunk_draws_codes(tmp_path, run_import, rep, chunks_of_two):
    existing = CustomerFactory(code="KH900001", owner=rep)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('customers_customer_code_seq', 900000)")
    rows = [NO_CODES] + [
        [f"客户{i}", "经销商", "兽药", "山东", "临沂", "李明", f"联系人{i}", f"1381234567{i}", ""] for i in range(5)
    ]
    job = run_import(write_csv(tmp_path / "c.csv", rows))
    assert job.counts["created"] == 5, job.report
    codes = set(Customer.objects.exclude(pk=existing.pk).values_list("code", flat=True))
    assert "KH900001" not in codes and len(codes) == 5


def test_a_code_drawn_but_not_used_is_kept_for_a_later_row_unless_the_file_names_it(
    tmp_path, run_import, rep, chunks_of_two
):
    from tests.factories import valid_credit_code

    existing = CustomerFactory(code="KH800000", credit_code=valid_credit_code(800), owner=rep)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('customers_customer_code_seq', 900000)")
    rows = [
        HEADER,
        # The first chunk draws a code for each row without one; the first row turns
        # out to be the existing customer's (its credit code), so one code is left over.
        row(code="", name=existing.name, credit=existing.credit_code, phone="13812340001"),
        row(code="", name="客户乙", credit=valid_credit_code(801), phone="13812340002"),
        # The next chunk names the code left over, and has a row without a code.
        row(code="KH900002", name="客户丙", credit=valid_credit_code(802), phone="13812340003"),
        row(code="", name="客户丁", credit=valid_credit_code(803), phone="13812340004"),
    ]
    job = run_import(write_csv(tmp_path / "c.csv", rows))
    assert job.counts == {"created": 3, "updated": 1, "unchanged": 0, "rejected": 0}, job.report
    codes = dict(Customer.objects.values_list("name", "code"))
    assert codes == {existing.name: "KH800000", "客户乙": "KH900001", "客户丙": "KH900002", "客户丁": "KH900003"}


def test_the_previous_chunk_is_sent_once_the_lookups_are_done(tmp_path, upload, rep, chunks_of_two, monkeypatch):
    """Not after every row's outcome is decided: the database would wait meanwhile."""
    from crm.imports import engine
    from tests.factories import valid_credit_code

    kept_while_deciding = []
    plan_create = CustomerImporter._plan_create

    def watch(self, record, run):
        kept_while_deciding.append(len(run.pipe.kept))
        return plan_create(self, record, run)

    monkeypatch.setattr(CustomerImporter, "_plan_create", watch)
    rows = [HEADER, *(row(code=f"KH90{n:04d}", credit=valid_credit_code(900 + n), name=f"客户{n}") for n in range(6))]
    job = engine.job_commit(job=upload(write_csv(tmp_path / "c.csv", rows)))
    assert job.counts["created"] == 6
    assert kept_while_deciding == [0] * 6


def test_cyclic_gc_is_off_during_a_run_and_back_on_after_it_whatever_happens(tmp_path, upload, rep, monkeypatch):
    import gc

    from crm.imports import engine

    seen = []
    job = upload(write_csv(tmp_path / "c.csv", [HEADER, row()]))
    engine.job_commit(job=job, progress=lambda done, total: seen.append(gc.isenabled()))
    assert seen and not any(seen) and gc.isenabled()

    def fail(*args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(CustomerImporter, "plan", fail)
    job = upload(write_csv(tmp_path / "d.csv", [HEADER, row(code="KH900002")]))
    with pytest.raises(RuntimeError):
        engine.job_dry_run(job=job)
    assert gc.isenabled()
