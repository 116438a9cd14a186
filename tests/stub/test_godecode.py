"""The stub decodes request bodies with Go's encoding/json rules (mmconform/stub/_godecode.py)."""

from __future__ import annotations

from typing import Any

import pytest

from mmconform.stub import _godecode as go

STRING_MAP = go.MapOf(go.STRING)
STRING_SLICE = go.SliceOf(go.STRING)
ACK = go.Struct(
    "PushNotificationAck",
    {"id": go.STRING, "received_at": go.INT64, "is_id_loaded": go.BOOL},
)
SETTINGS = go.Struct(
    "EmailSettings",
    {"SMTPServer": go.STRING, "SMTPPort": go.STRING, "EnableSMTPAuth": go.BOOL},
    pointers=frozenset({"SMTPServer", "SMTPPort", "EnableSMTPAuth"}),
)
CONFIG = go.Pointer(go.Struct("Config", {"EmailSettings": SETTINGS}))


def body(raw: str, target: go.GoType, *, whole: bool = False) -> go.Decoded:
    return go.decode_body(raw.encode(), target, whole=whole)


# --- reading the JSON value ----------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["", "   \n\t", "{", "[1,", "nope", "NaN", "Infinity", "{'a': 1}"])
def test_text_that_is_not_json_decodes_nothing(raw: str) -> None:
    with pytest.raises(go.GoSyntaxError):
        go.parse(raw.encode())


def test_the_decoder_reads_the_first_value_and_ignores_the_rest() -> None:
    assert go.parse(b'  {"a": "b"} trailing junk') == {"a": "b"}
    with pytest.raises(go.GoSyntaxError):
        go.parse(b'{"a": "b"} trailing junk', whole=True)
    assert go.parse(b'{"a": "b"}  \n', whole=True) == {"a": "b"}


def test_invalid_utf8_becomes_the_replacement_character() -> None:
    assert go.parse(b'"a\xffb"') == "a\ufffdb"


# --- map[string]string ---------------------------------------------------------------------------
def test_a_string_map_keeps_every_key_and_zeroes_the_mismatched_values() -> None:
    decoded = body('{"level": "ERROR", "message": 5, "extra": {"x": 1}, "n": null}', STRING_MAP)
    assert decoded.value == {"level": "ERROR", "message": "", "extra": "", "n": ""}
    assert decoded.error is not None
    assert "number" in decoded.error


def test_a_string_map_from_something_else_is_nil() -> None:
    assert body("[1, 2]", STRING_MAP).value is None
    assert body("null", STRING_MAP) == go.Decoded(None)


# --- []string ------------------------------------------------------------------------------------
def test_null_elements_of_a_string_slice_become_empty_strings() -> None:
    assert body("[null]", STRING_SLICE) == go.Decoded([""])
    assert body('["a", null, "b"]', STRING_SLICE) == go.Decoded(["a", "", "b"])


def test_a_mismatched_slice_element_is_a_type_error_and_decoding_goes_on() -> None:
    decoded = body('[1, "a", true]', STRING_SLICE)
    assert decoded.value == ["", "a", ""]
    assert not decoded.ok


def test_null_gives_a_nil_slice_and_an_object_is_a_type_error() -> None:
    assert body("null", STRING_SLICE) == go.Decoded(None)
    assert not body('{"a": "b"}', STRING_SLICE).ok


# --- int64 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["0", "-9223372036854775808", "9223372036854775807", "-0"])
def test_integers_in_range_fit_an_int64(number: str) -> None:
    decoded = body(f'{{"received_at": {number}}}', ACK)
    assert decoded.ok
    assert decoded.value == {"received_at": int(number)}


@pytest.mark.parametrize("number", ["9223372036854775808", "-9223372036854775809", "1.5", "1e3"])
def test_numbers_outside_int64_or_with_a_fraction_do_not(number: str) -> None:
    decoded = body(f'{{"id": "x", "received_at": {number}}}', ACK)
    assert not decoded.ok
    assert decoded.value == {"id": "x", "received_at": 0}


@pytest.mark.parametrize("value", ['"5"', "true", "[5]", "{}"])
def test_other_json_kinds_are_not_an_int64(value: str) -> None:
    assert not body(f'{{"received_at": {value}}}', ACK).ok


def test_bool_is_not_a_number_and_a_number_is_not_a_bool() -> None:
    assert not body('{"is_id_loaded": 1}', ACK).ok
    assert not body('{"received_at": true}', ACK).ok


# --- structs -------------------------------------------------------------------------------------
def test_struct_keys_match_case_insensitively_and_unknown_keys_are_ignored() -> None:
    decoded = body('{"ID": "a", "Received_At": 3, "unknown": [1]}', ACK)
    assert decoded == go.Decoded({"id": "a", "received_at": 3})


def test_an_exact_key_wins_over_a_folded_one_and_the_last_match_wins() -> None:
    assert body('{"id": "exact", "ID": "later"}', ACK).value == {"id": "later"}
    assert body('{"ID": "folded", "id": "exact"}', ACK).value == {"id": "exact"}


def test_null_leaves_a_pointer_field_nil_and_a_plain_field_unset() -> None:
    assert body('{"id": null, "received_at": null}', ACK).value == {}
    settings = {"EmailSettings": {"SMTPServer": None, "SMTPPort": "25"}}
    assert go.decode(settings, CONFIG).value == {"EmailSettings": {"SMTPPort": "25"}}


def test_a_mistyped_pointer_field_is_allocated_with_its_zero_value() -> None:
    decoded = body('{"EmailSettings": {"SMTPServer": 25, "EnableSMTPAuth": "yes"}}', CONFIG)
    assert decoded.value == {"EmailSettings": {"SMTPServer": "", "EnableSMTPAuth": False}}
    assert decoded.error is not None
    assert "EmailSettings.SMTPServer" in decoded.error


def test_decoding_goes_on_after_a_type_error_and_the_first_error_is_reported() -> None:
    decoded = body('{"received_at": "x", "id": "kept", "is_id_loaded": "y"}', ACK)
    assert decoded.value == {"received_at": 0, "id": "kept", "is_id_loaded": False}
    assert decoded.error is not None
    assert "received_at" in decoded.error


def test_a_pointer_to_a_struct() -> None:
    assert body("null", CONFIG) == go.Decoded(None)
    # Anything but null allocates the struct first, even when it then does not fit.
    for raw in ("[1]", '"text"', "7", "true"):
        decoded = body(raw, CONFIG)
        assert decoded.value == {}, raw
        assert not decoded.ok, raw
    mistyped_section = body('{"EmailSettings": 3}', CONFIG)
    assert mistyped_section.value == {"EmailSettings": {}}
    assert not mistyped_section.ok


def test_raw_values_keep_any_json_with_numbers_as_float64() -> None:
    holder = go.Struct("Holder", {"Raw": go.RAW})
    decoded = body('{"Raw": {"a": [1, 2.5, "x", null]}}', holder)
    assert decoded == go.Decoded({"Raw": {"a": [1, 2.5, "x", None]}})


def test_maps_of_pointers_keep_nil_elements() -> None:
    states = go.MapOf(go.Pointer(go.Struct("State", {"Enable": go.BOOL})))
    decoded = body('{"a": {"enable": true}, "b": null, "c": 4}', states)
    assert decoded.value == {"a": {"Enable": True}, "b": None, "c": {}}
    assert not decoded.ok


@pytest.mark.parametrize(
    ("target", "expected"),
    [(go.STRING, ""), (go.INT64, 0), (go.BOOL, False), (STRING_SLICE, None), (STRING_MAP, None)],
)
def test_null_gives_the_zero_value(target: go.GoType, expected: Any) -> None:
    assert go.decode(None, target) == go.Decoded(expected)
