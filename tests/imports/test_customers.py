"""Importing customers with their main contact: dry run, commit, re-import, matching,
every cleaning quirk in one sheet, rejects and warnings, all-or-nothing, history and
derived fields as the services keep them, remembered mappings, undo."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from crm import audit
from crm.errors import DomainError
from crm.imports import engine
from crm.models import AuditEvent, ImportJob, ImportMapping
from customers import services
from customers.models import Contact, Customer
from tests.factories import CustomerFactory, valid_credit_code

from .conftest import ALL_OR_NOTHING, SKIP_FIELD, write_csv, write_xlsx

HEADER = [
    "客户编码", "客户名称", "客户类型", "行业", "省份", "城市", "统一社会信用代码", "业务员", "联系人", "联系电话",
    "年销售额（万元）", "合作日期", "员工数",
]  # fmt: skip
CODE_A, CODE_B = valid_credit_code(1), valid_credit_code(2)


def row(code="KH900001", name="临沂康达兽药经营部", credit=CODE_A, phone="13812345678", **extra):
    values = {
        "code": code, "name": name, "type": "经销商", "industry": "兽药", "province": "山东", "city": "临沂",
        "credit": credit, "owner": "李明", "contact": "张三", "phone": phone, "sales": "120", "since": "2023/5/7",
        "staff": "12",
    }  # fmt: skip
    values.update(extra)
    return list(values.values())


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def sheet(tmp_path, rep):
    """sheet(rows, name="c.csv", encoding=...) -> a path; `rep` (李明) owns the customers."""

    def _sheet(rows, name="c.csv", encoding="gb18030", header=HEADER):
        if name.endswith(".xlsx"):
            return write_xlsx(tmp_path / name, [header, *rows], title="客户档案")
        return write_csv(tmp_path / name, [header, *rows], encoding=encoding)

    return _sheet


def test_dry_run_counts_and_writes_nothing(sheet, run_import, own_customer):
    own_customer.code, own_customer.credit_code = "KH900002", CODE_B
    own_customer.save()
    rows = [row(), row(code="KH900002", name="改名牧业", credit=CODE_B), row(code="KH900003", credit="123")]
    job = run_import(sheet(rows), dry_run=True)
    assert job.status == ImportJob.Status.PREVIEWED
    assert job.counts == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 1}
    assert job.report["rejects"] == [
        {
            "row": 4,
            "column": "统一社会信用代码",
            "field": "credit_code",
            "value": "123",
            "message": "A unified social credit code has 18 characters; this one has 3.",
        }
    ]
    assert Customer.objects.count() == 1
    assert not AuditEvent.objects.filter(batch=job.batch).exists()


def test_commit_writes_customers_contacts_and_history(sheet, run_import, admin_user, rep):
    job = run_import(sheet([row()]))
    assert job.status == ImportJob.Status.DONE and job.created_count == 1
    customer = Customer.objects.get(code="KH900001")
    assert (customer.owner, customer.province, customer.annual_sales) == (rep, "37", Decimal("1200000.00"))
    assert customer.cooperation_start == datetime.date(2023, 5, 7) and customer.staff == 12
    assert customer.created_by == admin_user and customer.version == 1
    contact = customer.contacts.get()
    assert (contact.name, contact.mobile, contact.is_primary) == ("张三", "13812345678", True)
    events = AuditEvent.objects.filter(batch=job.batch)
    assert {(e.action, e.object_type, e.actor, e.customer_id) for e in events} == {
        ("create", "customer", admin_user, customer.pk),
        ("create", "contact", admin_user, customer.pk),
    }
    assert all(e.reason == f"Import #{job.pk}: c.csv" for e in events)


def test_history_and_derived_fields_match_the_services(sheet, run_import):
    job = run_import(sheet([row()]))
    customer = Customer.objects.get(code="KH900001")
    contact = customer.contacts.get()
    # The events say what customer_create and child_save say for the same objects.
    event = AuditEvent.objects.get(batch=job.batch, object_type="customer")
    assert event.changes == {k: [None, v] for k, v in audit.snapshot(customer).items() if v not in (None, "", {}, [])}
    assert event.version == 1
    contact_after = audit.snapshot(contact)
    contact_after.pop("customer")
    assert AuditEvent.objects.get(batch=job.batch, object_type="contact").changes == audit.diff({}, contact_after)
    # Search text, tokens and completeness are what refresh_derived computes.
    stored = (customer.search_text, sorted(customer.search_tokens), customer.completeness)
    services.refresh_derived([customer.pk])
    customer.refresh_from_db()
    assert stored == (customer.search_text, sorted(customer.search_tokens), customer.completeness)
    assert Customer.objects.search("张三").get() == customer
    assert Customer.objects.search("兽药").get() == customer


def test_search_tokens_match_the_sql_function(db):
    from customers.search import all_ngrams

    for text in ["临沂康达 kh000001  91350100m000100y43 张三 ", "a", "ab cd", "x  y", "", "é", "a兽 𠀀"]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT crm_ngrams(%s)", [text])
            assert sorted(cursor.fetchone()[0]) == all_ngrams(text)


def test_every_quirk_in_one_sheet(sheet, run_import, rep):
    rows = [
        row(code=" KH900001 ", name=" 临沂康达兽药经营部  ", phone="+86 138-1234-5678/0539-8888666", since="45053"),
        row(
            code="KH900002",
            credit=CODE_B,
            name="潍坊牧原",
            province="内蒙古",
            phone="１３９１２３４５６７８",
            since="2023年5月7日",
            sales="1,234.5",
            staff="１２人",
        ),  # fmt: skip
    ]
    job = run_import(sheet(rows, name="c.xlsx"))
    assert job.counts["created"] == 2, job.report
    first = Customer.objects.get(code="KH900001")
    assert first.name == "临沂康达兽药经营部" and first.cooperation_start == datetime.date(2023, 5, 7)
    assert (first.contacts.get().mobile, first.contacts.get().phone) == ("13812345678", "0539-8888666")
    second = Customer.objects.get(code="KH900002")
    assert (second.province, second.annual_sales, second.staff) == ("15", Decimal("12345000.00"), 12)
    assert second.contacts.get().mobile == "13912345678"


def test_xlsx_numbers_are_not_decimals(tmp_path, run_import, rep):
    path = write_xlsx(tmp_path / "c.xlsx", [HEADER, row(phone=13812345678, sales=120, staff=12.0)])
    run_import(path)
    assert Contact.objects.get().mobile == "13812345678"


def test_reimport_changes_nothing_and_a_corrected_file_only_what_differs(sheet, run_import):
    rows = [row(), row(code="KH900002", credit=CODE_B, name="潍坊牧原养殖场", type="养殖场")]
    first = run_import(sheet(rows))
    events = AuditEvent.objects.count()
    again = run_import(sheet(rows))
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert AuditEvent.objects.count() == events
    rows[1] = row(code="KH900002", credit=CODE_B, name="潍坊牧原养殖场", type="养殖场", city="寿光", contact="王五")
    corrected = run_import(sheet(rows))
    assert corrected.counts == {"created": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    customer = Customer.objects.get(code="KH900002")
    assert (customer.city, customer.version) == ("寿光", 2)
    changes = {e.object_type: e.changes for e in AuditEvent.objects.filter(batch=corrected.batch)}
    assert changes == {"customer": {"city": ["临沂", "寿光"]}, "contact": {"name": ["张三", "王五"]}}
    assert AuditEvent.objects.get(batch=corrected.batch, object_type="customer").version == 2
    assert first.batch != corrected.batch


def test_matched_on_credit_code_when_there_is_no_code(sheet, run_import, own_customer):
    own_customer.credit_code = CODE_A
    own_customer.save()
    header = HEADER[1:]
    job = run_import(sheet([row(name="新名字")[1:]], header=header))
    assert job.counts["updated"] == 1
    own_customer.refresh_from_db()
    assert own_customer.name == "新名字"


def test_credit_code_of_another_customer_is_rejected(sheet, run_import, own_customer):
    own_customer.credit_code = CODE_A
    own_customer.save()
    job = run_import(sheet([row(code="KH999999")]))
    assert job.counts["rejected"] == 1
    assert job.report["rejects"][0]["field"] == "credit_code"
    assert own_customer.code in job.report["rejects"][0]["message"]


def test_the_same_customer_twice_in_a_file(sheet, run_import):
    job = run_import(sheet([row(), row(name="另一个"), row(code="KH900009")]))
    assert job.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 2}
    assert [r["message"] for r in job.report["rejects"]] == ["The same record as row 2."] * 2


def test_every_broken_row_reported_with_row_column_value_reason(sheet, run_import):
    rows = [
        row(code="K1", credit=valid_credit_code(11), province="火星"),
        row(code="K2", credit=valid_credit_code(12), since="2023-13-01"),
        row(code="K3", credit=valid_credit_code(13), sales="很多"),
        row(code="K4", credit="91310115MA1H8R7C6D"),
        row(code="K5", credit=valid_credit_code(15), owner="查无此人"),
        row(code="K6", credit=valid_credit_code(16), type="火箭"),
        row(code="K7", credit=valid_credit_code(17), phone="找老板"),
        row(code="K8", credit=valid_credit_code(18), name=""),
    ]
    job = run_import(sheet(rows), dry_run=True)
    assert job.counts["rejected"] == 8
    found = {(r["row"], r["column"], r["value"]) for r in job.report["rejects"]}
    assert found == {
        (2, "省份", "火星"), (3, "合作日期", "2023-13-01"), (4, "年销售额（万元）", "很多"),
        (5, "统一社会信用代码", "91310115MA1H8R7C6D"), (6, "业务员", "查无此人"), (7, "客户类型", "火箭"),
        (8, "联系电话", "找老板"), (9, "客户名称", ""),
    }  # fmt: skip
    assert all(r["message"] for r in job.report["rejects"])


def test_destroyed_values_rejected_or_skipped_as_the_admin_chooses(sheet, run_import):
    rows = [row(phone="1.38E+10"), row(code="KH900002", credit="9.13701E+17", name="第二家")]
    rejected = run_import(sheet(rows))
    assert rejected.counts["rejected"] == 2
    assert {r["field"] for r in rejected.report["rejects"]} == {"contact_mobile", "credit_code"}
    assert "the digits are lost" in rejected.report["rejects"][0]["message"]
    skipped = run_import(sheet(rows), destroyed=SKIP_FIELD)
    assert skipped.counts["created"] == 2 and len(skipped.report["warnings"]) >= 2
    assert Customer.objects.get(code="KH900002").credit_code is None
    assert Contact.objects.get(customer__code="KH900001").mobile == ""


def test_all_or_nothing_writes_nothing_when_a_late_row_is_bad(sheet, run_import, settings):
    rows = [row(code=f"KH{n:06d}", credit=valid_credit_code(100 + n), name=f"客户{n}") for n in range(30)]
    rows.append(row(code="KH999999", credit=valid_credit_code(999), province="火星"))
    job = run_import(sheet(rows), mode=ALL_OR_NOTHING)
    assert job.status == ImportJob.Status.FAILED
    assert "Nothing was imported" in job.error
    assert job.counts == {"created": 30, "updated": 0, "unchanged": 0, "rejected": 1}
    assert not Customer.objects.exists() and not AuditEvent.objects.exists()
    valid = run_import(sheet(rows))
    assert valid.status == ImportJob.Status.DONE and Customer.objects.count() == 30


def test_all_or_nothing_rolls_back_chunks_already_written(sheet, run_import, monkeypatch):
    from customers.importers.customers import CustomerImporter

    monkeypatch.setattr(CustomerImporter, "chunk_size", 5)
    rows = [row(code=f"KH{n:06d}", credit=valid_credit_code(100 + n), name=f"客户{n}") for n in range(12)]
    rows.append(row(code="KH999999", credit=valid_credit_code(999), since="明天"))
    job = run_import(sheet(rows), mode=ALL_OR_NOTHING)
    assert job.status == ImportJob.Status.FAILED and job.counts["created"] == 12
    assert not Customer.objects.exists() and not Contact.objects.exists() and not AuditEvent.objects.exists()


def test_owner_defaults_and_required_fields_for_new_customers(sheet, run_import, admin_user, rep):
    header = ["客户名称", "省份", "城市"]
    job = run_import(sheet([["甲牧业", "山东", "临沂"]], header=header), dry_run=True)
    assert {r["field"] for r in job.report["rejects"]} == {"type", "industry"}
    job = run_import(
        sheet([["甲牧业", "山东", "临沂"]], header=header), defaults={"type": "经销商", "industry": "兽药"}
    )
    customer = Customer.objects.get()
    assert (customer.owner, customer.type, customer.industry) == (admin_user, "dealer", "vet_drugs")
    assert "No owner rep" in job.report["warnings"][0]["message"]
    run_import(
        sheet([["乙牧业", "山东", "临沂"]], header=header),
        defaults={"type": "经销商", "industry": "兽药", "owner": "rep"},
    )
    assert Customer.objects.get(name="乙牧业").owner == rep


def test_rows_without_codes_match_on_name_and_city(sheet, run_import, rep):
    header = ["客户名称", "客户类型", "行业", "省份", "城市", "业务员"]
    rows = [["甲牧业", "经销商", "兽药", "山东", "临沂", "李明"], ["甲牧业", "经销商", "兽药", "山东", "潍坊", "李明"]]
    assert run_import(sheet(rows, header=header)).counts["created"] == 2
    again = run_import(sheet(rows + [rows[0]], header=header))
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 1}
    assert Customer.objects.count() == 2


def test_bad_default_refused_before_running(sheet, upload):
    with pytest.raises(DomainError):
        upload(sheet([row()]), defaults={"province": "火星"})


def test_mapping_guessed_corrected_and_remembered(sheet, upload, admin_user):
    header = ["名称", "类型", "行业", "省", "城市", "备用电话"]
    job = upload(sheet([["甲", "经销商", "兽药", "山东", "临沂", "13812345678"]], header=header))
    assert job.mapping == ["name", "type", "industry", "province", "city", ""]
    with pytest.raises(DomainError):
        engine.job_set_mapping(actor=admin_user, job=job, columns=["name", "name", "", "", "", ""])
    with pytest.raises(DomainError):
        engine.job_set_mapping(actor=admin_user, job=job, columns=["nonsense", "", "", "", "", ""])
    engine.job_set_mapping(actor=admin_user, job=job, columns=["name", "type", "industry", "province", "city", "phone"])
    assert ImportMapping.objects.get(kind="customers").columns[-1] == "phone"
    again = upload(sheet([["乙", "经销商", "兽药", "山东", "临沂", "13912345678"]], header=header))
    assert again.mapping[-1] == "phone"
    engine.job_commit(job=again)
    assert Customer.objects.get().phone == "13912345678"


def test_a_run_reads_in_a_constant_number_of_queries(sheet, run_import, upload):
    def queries_for(count):
        rows = [row(code=f"KH{n:06d}", credit=valid_credit_code(500 + n), name=f"客户{n}") for n in range(count)]
        job = upload(sheet(rows))
        with CaptureQueriesContext(connection) as captured:
            engine.job_dry_run(job=job)
        return len(captured.captured_queries)

    assert queries_for(3) == queries_for(60)


def test_a_reimport_reads_in_a_constant_number_of_queries(sheet, run_import, upload):
    """Matched customers and their main contacts are read with the fields planning and
    writing use, once per chunk: none is left to be loaded row by row."""

    def rows(count, city, contact):
        return [
            row(code=f"KH{n:06d}", credit=valid_credit_code(700 + n), name=f"客户{n}", city=city, contact=contact)
            for n in range(count)
        ]

    run_import(sheet(rows(30, "临沂", "张三")))

    def queries_for(count, city, contact, *, commit):
        job = upload(sheet(rows(count, city, contact)))
        with CaptureQueriesContext(connection) as captured:
            if commit:
                engine.job_commit(job=job)
            else:
                engine.job_dry_run(job=job)
        assert job.counts["updated"] == count
        return len(captured.captured_queries)

    assert queries_for(3, "寿光", "李四", commit=False) == queries_for(30, "寿光", "李四", commit=False)
    assert queries_for(3, "寿光", "李四", commit=True) == queries_for(30, "济南", "王五", commit=True)
    assert set(Customer.objects.values_list("city", flat=True)) == {"济南"}
    assert Contact.objects.filter(name="王五", is_primary=True).count() == 30


def test_undo_deletes_what_was_created_and_restores_what_was_updated(sheet, run_import, admin_user, own_customer):
    own_customer.code, own_customer.credit_code, own_customer.city = "KH900002", CODE_B, "济南"
    own_customer.save()
    job = run_import(sheet([row(), row(code="KH900002", credit=CODE_B, name=own_customer.name, city="寿光")]))
    assert job.counts == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 0}
    engine.job_undo(actor=admin_user, job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE and job.undone_by == admin_user
    assert list(Customer.objects.values_list("code", flat=True)) == ["KH900002"]
    own_customer.refresh_from_db()
    assert own_customer.city == "济南" and own_customer.version == 3
    assert not own_customer.contacts.exists()
    undo_events = AuditEvent.objects.filter(batch=job.undo_batch)
    assert {(e.action, e.object_type) for e in undo_events} == {
        ("delete", "customer"),
        ("delete", "contact"),
        ("update", "customer"),
    }
    restored = undo_events.get(action="update").changes
    assert restored["city"] == ["寿光", "济南"] and restored["staff"] == [12, None]
    with pytest.raises(DomainError):
        engine.job_undo(actor=admin_user, job=job)


def test_no_undo_once_an_imported_record_changed(sheet, run_import, admin_user):
    job = run_import(sheet([row()]))
    customer = Customer.objects.get()
    services.customer_update(actor=admin_user, customer_id=customer.pk, data={"city": "日照"}, expected_version=None)
    with pytest.raises(DomainError) as error:
        engine.job_undo(actor=admin_user, job=job)
    assert "changed since" in str(error.value.message)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_job_runs_once(sheet, upload):
    job = upload(sheet([row()]))
    engine.job_commit(job=job)
    with pytest.raises(DomainError):
        engine.job_commit(job=job)
    assert Customer.objects.count() == 1


def test_existing_customer_factory_untouched_by_unrelated_import(sheet, run_import):
    other = CustomerFactory(code="KH800000")
    run_import(sheet([row()]))
    assert Customer.objects.get(pk=other.pk).version == 1
