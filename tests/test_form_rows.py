"""The repeatable rows of the record forms (registry/records_ui/rows.py), on small forms of their own."""

from flask import get_flashed_messages
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, Form, FormField, StringField

from registry.records_ui.rows import RowGroup, error_summary, formdata, place_errors, row_action


class ItemRow(Form):
    name = StringField("Name")
    size = StringField("Size")


class PartRow(Form):
    code = StringField("Code")


class RecordForm(Form):
    title = StringField("Title")
    items = FieldList(FormField(ItemRow), max_entries=2)
    parts = FieldList(FormField(PartRow), max_entries=5)


GROUPS = (
    RowGroup("items", "add_item", "remove_item", "Items", lambda n, field: f"Item {n}: {field}"),
    RowGroup("parts", "add_part", "remove_part", "Parts", lambda n, field: f"Part {n}: {field}"),
)


def test_a_removed_row_is_dropped_and_the_others_renumbered_from_zero():
    posted = MultiDict([
        ("title", "T"), ("action", "remove_item-2"),
        ("items-0-name", "a"), ("items-2-name", "b"), ("items-2-size", "9"), ("items-5-name", "c"),
        ("items-5-size", "3"), ("parts-2-code", "p"), ("items-x-name", "junk"),
    ])
    data = formdata(posted, GROUPS)
    assert data.to_dict() == {
        "title": "T", "action": "remove_item-2",
        "items-0-name": "a", "items-1-name": "c", "items-1-size": "3",
        # The same index in another group is not removed; a malformed row key is dropped.
        "parts-0-code": "p",
    }
    form = RecordForm(formdata=data)
    assert [row.form.name.data for row in form.items] == ["a", "c"]


def test_a_removal_index_out_of_range_keeps_every_row_and_saves_nothing(app):
    posted = MultiDict([("action", "remove_item-7"), ("items-0-name", "a"), ("items-1-name", "b")])
    form = RecordForm(formdata=formdata(posted, GROUPS))
    with app.test_request_context():
        assert row_action(form, posted, GROUPS) is True
        assert get_flashed_messages() == []
    assert [row.form.name.data for row in form.items] == ["a", "b"]


def test_other_actions_are_not_row_actions(app):
    with app.test_request_context():
        for action in ("save", "submit", "", "remove_item", "add_item-1", "remove_item-1000", "remove_items-0"):
            form = RecordForm(formdata=MultiDict([("items-0-name", "a")]))
            assert row_action(form, MultiDict([("action", action)]), GROUPS) is False, action
            assert len(form.items) == 1


def test_add_appends_a_row_up_to_the_limit_then_says_so(app):
    with app.test_request_context():
        form = RecordForm(formdata=MultiDict([("items-0-name", "a")]))
        assert row_action(form, MultiDict([("action", "add_item")]), GROUPS) is True
        assert len(form.items) == 2 and len(form.parts) == 0
        assert get_flashed_messages() == []

    with app.test_request_context():  # a request reads its flashed messages once
        full = RecordForm(formdata=MultiDict([("items-0-name", "a"), ("items-1-name", "b")]))
        assert row_action(full, MultiDict([("action", "add_item")]), GROUPS) is True
        assert len(full.items) == 2
        assert get_flashed_messages(with_categories=True) == [("error", "At most 2 rows can be listed.")]


def test_errors_for_rows_or_fields_that_do_not_exist_go_to_the_form_or_the_group(app):
    form = RecordForm(formdata=MultiDict([("items-0-name", "a"), ("items-1-name", "b")]))
    errors = {
        "items-1-size": ["Too big."],
        "items-5-name": ["No such row."],  # only rows 0 and 1 exist
        "items-0-colour": ["No such field."],
        "items": ["Too few items."],
        "heading": ["Missing."],  # an alias of title
        "title": ["Missing."],  # the same message once only
        "nothing": ["About the whole record."],
    }
    with app.test_request_context():
        unplaced = place_errors(form, errors, GROUPS, {"heading": "title"})
        summary = error_summary(form, unplaced, GROUPS, "The record")
    assert form.items[1].form.size.errors == ["Too big."]
    assert form.title.errors == ["Missing."]
    assert unplaced == {"": ["No such row.", "No such field.", "About the whole record."],
                        "items": ["Too few items."]}
    assert summary == [
        ("title", "Title", ["Missing."]),
        ("items-1-size", "Item 2: Size", ["Too big."]),
        ("form-h", "The record", ["No such row.", "No such field.", "About the whole record."]),
        ("items-h", "Items", ["Too few items."]),
    ]
