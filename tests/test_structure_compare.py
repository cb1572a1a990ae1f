"""The comparison of two disclosures on crafted pairs: a move, a rename, a holder change, a unit split."""

import copy

from registry.services.structure_compare import compare, marks


def unit(key, parent, name, kind="directorate", positions=()):
    return {"key": key, "parent": parent, "kind": kind, "name_ru": f"{name} (ru)", "name_zh": "", "name_en": name,
            "hq_location": "Astana", "positions": list(positions)}


def post(key, title, *holders, kind="head_of_directorate"):
    return {"key": key, "kind": kind, "title_ru": f"{title} (ru)", "title_zh": "", "title_en": title,
            "holders": list(holders)}


def holder(name, appointed="2020-01-01", left=None, rank="Colonel"):
    return {"name_native": "", "name_ru": f"{name} (ru)", "name_zh": "", "name_latin": name, "rank": rank,
            "appointed_on": appointed, "left_on": left}


def base():
    return {"as_of": "2027-01-01", "ministry": {"ru": "МО", "zh": "", "en": "MoD", "native": ""}, "units": [
        unit("MOD", None, "Ministry", "ministry", [post("MIN", "Minister", holder("Alpha"), kind="minister")]),
        unit("GS", "MOD", "General Staff", "general_staff"),
        unit("LOG", "MOD", "Logistics Directorate", positions=[post("HLOG", "Head of logistics", holder("Bravo")),
                                                                 post("DLOG", "Deputy head of logistics")]),
    ]}


def by_key(snapshot, key):
    return next(u for u in snapshot["units"] if u["key"] == key)


def texts(changes):
    return [(c.kind, c.key) for c in changes]


def test_identical_disclosures_have_no_change():
    assert compare(base(), copy.deepcopy(base())) == []


def test_a_move_is_one_change_and_marked_on_the_moved_unit():
    new = base()
    by_key(new, "LOG")["parent"] = "GS"
    changes = compare(base(), new)
    assert texts(changes) == [("unit_moved", "LOG")]
    assert changes[0].text == ("Unit moved: Logistics Directorate, from under Ministry to under General Staff.")
    assert marks(changes) == {"LOG": {"unit-moved"}}


def test_a_rename_is_one_change_naming_old_and_new():
    new = base()
    by_key(new, "LOG")["name_en"] = "Logistics and Supply Directorate"
    changes = compare(base(), new)
    assert texts(changes) == [("unit_renamed", "LOG")]
    assert "Logistics Directorate is now Logistics and Supply Directorate" in changes[0].text


def test_a_holder_change_names_who_left_and_who_came():
    new = base()
    minister = by_key(new, "MOD")["positions"][0]
    minister["holders"][0]["left_on"] = "2026-05-01"
    minister["holders"].append(holder("Charlie", appointed="2026-05-01", rank="General"))
    changes = compare(base(), new)
    assert texts(changes) == [("holder_changed", "MIN")]
    assert changes[0].text == "Minister (Ministry): Colonel Alpha replaced by General Charlie."
    assert marks(changes) == {"MOD": {"holder-changed"}}


def test_a_rank_change_is_reported_as_such():
    new = base()
    by_key(new, "MOD")["positions"][0]["holders"][0]["rank"] = "Major General"
    changes = compare(base(), new)
    assert texts(changes) == [("holder_changed", "MIN")]
    assert "rank is now Major General" in changes[0].text


def test_a_unit_split_is_a_new_unit_and_the_posts_that_moved_to_it():
    """Logistics splits: a new Supply Directorate takes the deputy's post; Logistics keeps its head."""
    new = base()
    log = by_key(new, "LOG")
    deputy = log["positions"].pop(1)
    deputy["title_en"] = "Head of supply"
    new["units"].append(unit("SUP", "MOD", "Supply Directorate", positions=[deputy]))
    changes = compare(base(), new)
    assert texts(changes) == [("unit_added", "SUP"), ("position_moved", "DLOG"), ("position_renamed", "DLOG")]
    assert changes[0].text == "Unit added: Supply Directorate, under Ministry."
    assert changes[1].text == "Post moved: Head of supply, from Logistics Directorate to Supply Directorate."
    assert marks(changes) == {"SUP": {"unit-added", "position-moved", "position-renamed"}}


def test_removed_units_and_posts_are_listed_and_marked_on_what_remains():
    new = base()
    new["units"] = [u for u in new["units"] if u["key"] != "LOG"]
    changes = compare(base(), new)
    assert texts(changes) == [("unit_removed", "LOG"), ("position_removed", "HLOG"), ("position_removed", "DLOG")]
    assert changes[0].text == "Unit removed: Logistics Directorate (was under Ministry)."
    assert "MOD" in marks(changes)  # the parent of the removed unit is highlighted


def test_a_new_post_and_a_renamed_ministry():
    new = base()
    by_key(new, "GS")["positions"].append(post("CGS", "Chief of the General Staff", holder("Delta")))
    new["ministry"]["en"] = "Ministry of Defence"
    changes = compare(base(), new)
    assert texts(changes) == [("ministry_renamed", ""), ("position_added", "CGS")]
    assert changes[1].text == "Post added: Chief of the General Staff in General Staff."
