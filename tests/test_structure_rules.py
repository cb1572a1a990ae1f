"""Rule 6 of shared/DOMAIN.md section 6 as blocking errors on submit, through the record adapter's check; and
what the workflow keeps: a submitted version is frozen, the next one starts as a copy."""

import pytest

from registry.db import db
from registry.enums import RecordType
from registry.models import AuditEntry, StructureHolder
from registry.records import adapter_for
from registry.services import structures as svc
from registry.services import submissions as workflow
from registry.services.errors import ValidationFailed
from registry.services.structure_import import parse
from tests.conftest import login
from tests.factories import state, user
from tests.structure_helpers import kyrgyz_csv, open_disclosure, save_and_submit, unit_op, upload


def _kyrgyz_draft(actor, year=2027):
    submission = svc.create_structure(actor, state("KG"), year)
    svc.replace_tree(actor, submission, parse(kyrgyz_csv(), "kg.csv", svc.as_of_for(year)))
    return submission


def _codes(submission) -> list[tuple[str, str]]:
    findings = adapter_for(RecordType.STRUCTURE).check(submission, submission.current_revision)
    assert all(f["severity"] == "error" for f in findings)
    return [(f["code"], f["field"]) for f in findings]


@pytest.fixture
def officer(app, make_user):
    return make_user("officer", "KG").id


def test_a_valid_disclosure_has_no_finding_and_submits(app, officer):
    with app.app_context():
        actor = user(officer)
        submission = _kyrgyz_draft(actor)
        assert _codes(submission) == []
        workflow.submit(actor, submission)
        assert submission.current_revision.snapshot["structure"]["units"][0]["key"] == "MOD"
        db.session.rollback()


@pytest.mark.parametrize(("edit", "expected"), [
    ("two_holders", [("structure_two_holders", "unit:MOD")]),
    ("appointed_late", [("structure_appointed", "unit:GS")]),
    ("no_cyrillic_or_chinese", [("structure_names", "unit:BT")]),
    ("no_latin_holder", [("structure_names", "unit:MOD")]),
    ("ministry_without_latin", [("structure_names", "ministry_name_ru")]),
    ("empty", [("structure_empty", "units")]),
])
def test_each_rule_blocks_submission_with_its_message(app, officer, edit, expected):
    with app.app_context():
        actor = user(officer)
        submission = _kyrgyz_draft(actor)
        details = svc.details_of(submission.current_revision)
        if edit == "two_holders":
            svc.add_holder(actor, submission, "DEP", svc.HolderInput(name_ru="Второй", name_latin="Second",
                                                                     appointed_on=svc.as_of_for(2026)))
        elif edit == "appointed_late":
            svc.add_holder(actor, submission, "CGS", svc.HolderInput(name_ru="Поздний", name_latin="Late",
                                                                     appointed_on=svc.as_of_for(2027).replace(month=3)),
                           replaces_current=True)
        elif edit == "no_cyrillic_or_chinese":
            svc.update_unit(actor, submission, "BT", svc.UnitInput(kind="border_troops", name_en="Border Troops"))
        elif edit == "no_latin_holder":
            svc.add_holder(actor, submission, "DEP", svc.HolderInput(name_ru="Без Латиницы",
                                                                     appointed_on=svc.as_of_for(2026)),
                           replaces_current=True)
        elif edit == "ministry_without_latin":
            svc.update_disclosure(actor, submission, ministry_name_ru="Министерство обороны")
        else:
            for key in [u.key for u in details.units if u.parent_key is None]:
                svc.remove_unit(actor, submission, key, cascade=True)
        assert _codes(submission) == expected
        with pytest.raises(ValidationFailed):
            workflow.submit(actor, submission)
        db.session.rollback()


def test_cycles_and_orphans_are_found_by_the_check():
    snapshot = {"as_of": "2027-01-01", "ministry": {"ru": "МО", "zh": "", "en": "MoD", "native": ""}, "units": [
        {"key": k, "parent": p, "kind": "directorate", "name_ru": k, "name_zh": "", "name_en": k, "hq_location": "",
         "positions": []} for k, p in (("A", "B"), ("B", "A"), ("C", "GONE"), ("D", None))]}
    assert [(f["code"], f["field"]) for f in svc.check_snapshot(snapshot)] == [
        ("structure_cycle", "unit:A"), ("structure_cycle", "unit:B"), ("structure_orphan", "unit:C")]


def test_a_refused_submission_lists_the_problems_with_links_to_the_units(app, client, make_user):
    login(client, make_user("officer", "KG"))
    reference = open_disclosure(client, 2027)
    assert upload(client, reference, kyrgyz_csv()).status_code == 302
    assert unit_op(client, reference, "MOD", "add_holder", target="DEP", name_ru="Второй", name_latin="Second",
                   appointed_on="2026-01-01").status_code == 302
    response = save_and_submit(client, reference)
    assert response.status_code == 302 and "check=1" in response.location
    html = client.get(response.location).get_data(as_text=True)
    assert "cannot be submitted yet" in html
    assert (f'<a href="/structures/{reference}/units/MOD">Unit Ministry of Defence: a post has 2 current holders; '
            "give the left-on date of those who left.</a>") in html
    assert "Draft" in client.get(f"/structures/{reference}").get_data(as_text=True)


def test_the_submitted_version_is_frozen_and_an_amendment_starts_from_it(app, officer, make_user):
    reviewer = make_user("secretariat").id
    with app.app_context():
        actor = user(officer)
        submission = _kyrgyz_draft(actor)
        workflow.submit(actor, submission)
        workflow.accept(user(reviewer), submission)
        workflow.perform(actor, submission, "amend")
        assert submission.current_revision_no == 2
        svc.move_unit(actor, submission, "ICD", "GS")
        first = svc.snapshot_details(svc.details_of(submission.revision(1)))
        second = svc.snapshot_details(svc.details_of(submission.revision(2)))
        assert next(u for u in first["units"] if u["key"] == "ICD")["parent"] == "MOD"
        assert next(u for u in second["units"] if u["key"] == "ICD")["parent"] == "GS"
        assert submission.revision(1).snapshot["structure"] == first
        db.session.commit()


def test_next_years_disclosure_copies_the_last_accepted_one_and_records_where_from(app, officer, make_user):
    reviewer = make_user("secretariat").id
    with app.app_context():
        actor = user(officer)
        first = _kyrgyz_draft(actor)
        workflow.submit(actor, first)
        workflow.accept(user(reviewer), first)
        second = svc.create_structure(actor, state("KG"), 2028)
        assert second.due_date.isoformat() == "2027-12-15"
        copied = svc.snapshot_details(svc.details_of(second.current_revision))
        original = svc.snapshot_details(svc.details_of(first.accepted_revision))
        assert copied["units"] == original["units"] and copied["as_of"] == "2028-01-01"
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.object_id == second.reference,
                                                              AuditEntry.action == "structure.save_draft"))
        assert entry.changes["copied_from"] == [None, first.reference]
        db.session.commit()


def test_a_post_moves_to_another_unit_with_its_holders_and_a_removed_post_takes_them_along(app, officer):
    with app.app_context():
        actor = user(officer)
        submission = _kyrgyz_draft(actor)
        svc.update_position(actor, submission, "ICC", svc.PositionInput(kind="cooperation_contact",
                                                                        title_en="Cooperation contact",
                                                                        title_ru="Контакт"), unit_key="GS")
        db.session.expire_all()
        snapshot = svc.snapshot_details(svc.details_of(submission.current_revision))
        units = {u["key"]: u for u in snapshot["units"]}
        assert [p["key"] for p in units["ICD"]["positions"]] == []
        moved = next(p for p in units["GS"]["positions"] if p["key"] == "ICC")
        assert moved["title_en"] == "Cooperation contact" and moved["holders"][0]["name_latin"] == "Toktogulov Marat"
        svc.remove_position(actor, submission, "ICC")
        db.session.expire_all()
        snapshot = svc.snapshot_details(svc.details_of(submission.current_revision))
        assert "ICC" not in {p["key"] for u in snapshot["units"] for p in u["positions"]}
        assert db.session.scalar(db.select(db.func.count()).select_from(StructureHolder)) == 3
        actions = list(db.session.scalars(db.select(AuditEntry.action).where(
            AuditEntry.object_id == submission.reference).order_by(AuditEntry.id)))
        assert actions[-2:] == ["structure.update_position", "structure.remove_position"]
        db.session.rollback()
