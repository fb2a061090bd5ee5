"""Cache keys name results on disk: a key that changed for the same inputs would silently rebuild
every cached export, model and embedding, so the pinned digests below guard their format."""
from common.cache_keys import content_key, json_key


def test_json_key_is_the_sha256_of_the_json_text_and_pinned():
    assert json_key(["a", 1, {"b": 2, "a": 1}]) == "9c348ef2897e"
    assert json_key({"b": 2, "a": 1}, sort_keys=True) == json_key({"a": 1, "b": 2}, sort_keys=True) == "d8497d9d8277"
    assert json_key({"b": 2, "a": 1}) != json_key({"a": 1, "b": 2})


def test_content_key_separates_parts_and_is_pinned():
    assert content_key("mc-fold", ["x", "y"], 3) == "5b5632c7cf8e870c3283"
    assert content_key("mc-fold", ["xy"], 3) == content_key("mc-fold", "xy", 3)   # a one-item list reads as its item
    assert len({content_key("mc-fold", ["x", "y"], 3), content_key("mc-fold", ["xy"], 3),
                content_key("mc-fold", ["x"], ["y"], 3), content_key("mc-fold", ["x", "y"], "3 ")}) == 4
