"""Property: any sequence of tree edits through the service keeps the chart a valid tree (no cycle, no orphan,
unique keys); edits that would break it are refused and change nothing."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.db import db
from registry.services import structures as svc
from registry.services.errors import ValidationFailed
from tests.factories import state, user

OPS = st.lists(
    st.tuples(st.sampled_from(["add", "add_top", "move", "move_top", "remove", "remove_cascade", "add_post",
                               "remove_post", "rename"]),
              st.integers(min_value=0, max_value=7), st.integers(min_value=0, max_value=7)),
    min_size=1, max_size=30,
)


def _snapshot_after_reload(submission):
    db.session.flush()
    db.session.expire_all()
    return svc.snapshot_details(svc.details_of(submission.current_revision))


def _assert_valid_tree(snapshot):
    keys = [u["key"] for u in snapshot["units"]]
    assert len(keys) == len(set(keys)), "unit keys are unique"
    parents = {u["key"]: u["parent"] for u in snapshot["units"]}
    assert all(p is None or p in parents for p in parents.values()), "no orphan"
    assert svc.cycle_keys(parents) == set(), "no cycle"
    posts = [p["key"] for u in snapshot["units"] for p in u["positions"]]
    assert len(posts) == len(set(posts)), "post keys are unique"


def _apply(actor, submission, op, a, b):
    details = svc.details_of(submission.current_revision)
    keys = [u.key for u in details.units]
    pick = (lambda i: keys[i % len(keys)]) if keys else (lambda i: None)
    posts = [p.key for u in details.units for p in u.positions]
    unit = svc.UnitInput(kind="directorate", name_ru=f"Управление {a}", name_en=f"Directorate {a}")
    if op == "add_top" or (op == "add" and not keys):
        svc.add_unit(actor, submission, None, unit)
    elif op == "add":
        svc.add_unit(actor, submission, pick(a), unit)
    elif not keys:
        return
    elif op == "move":
        svc.move_unit(actor, submission, pick(a), pick(b))
    elif op == "move_top":
        svc.move_unit(actor, submission, pick(a), None)
    elif op == "remove":
        svc.remove_unit(actor, submission, pick(a))
    elif op == "remove_cascade":
        svc.remove_unit(actor, submission, pick(a), cascade=True)
    elif op == "add_post":
        svc.add_position(actor, submission, pick(a), svc.PositionInput(kind="deputy", title_en=f"Deputy {b}"))
    elif op == "remove_post" and posts:
        svc.remove_position(actor, submission, posts[a % len(posts)])
    elif op == "rename":
        svc.update_unit(actor, submission, pick(a), svc.UnitInput(kind="service", name_zh=f"部门 {b}",
                                                                  name_en=f"Renamed {b}"))


def test_random_edit_sequences_keep_the_tree_valid(app, make_user):
    officer_id = make_user("officer", "KZ").id

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
    @given(OPS)
    def run(ops):
        with app.app_context():
            actor = user(officer_id)
            submission = svc.create_structure(actor, state("KZ"), 2030)
            try:
                for op, a, b in ops:
                    before = _snapshot_after_reload(submission)
                    try:
                        _apply(actor, submission, op, a, b)
                    except ValidationFailed:
                        assert _snapshot_after_reload(submission) == before, "a refused edit changes nothing"
                    _assert_valid_tree(_snapshot_after_reload(submission))
            finally:
                db.session.rollback()

    run()


def test_a_move_under_its_own_unit_is_refused_with_a_message(app, make_user):
    officer_id = make_user("officer", "KZ").id
    with app.app_context():
        actor = user(officer_id)
        submission = svc.create_structure(actor, state("KZ"), 2030)
        top = svc.add_unit(actor, submission, None, svc.UnitInput(kind="ministry", name_ru="МО", name_en="MoD"))
        child = svc.add_unit(actor, submission, top.key, svc.UnitInput(kind="general_staff", name_en="GS",
                                                                        name_ru="ГШ"))
        try:
            svc.move_unit(actor, submission, top.key, child.key)
        except ValidationFailed as exc:
            assert exc.errors == {"parent_key": ["A unit cannot be placed under itself or one of its own units."]}
        else:
            raise AssertionError("the move was not refused")
        try:
            svc.remove_unit(actor, submission, top.key)
        except ValidationFailed as exc:
            assert "has 1 unit(s) and 0 post(s) under it" in exc.errors["cascade"][0]
        else:
            raise AssertionError("the removal was not refused")
        assert svc.remove_unit(actor, submission, top.key, cascade=True) == 2
        db.session.rollback()
