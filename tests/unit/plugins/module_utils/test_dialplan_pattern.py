# SPDX-License-Identifier: GPL-3.0-or-later
"""Asterisk extension patterns as the dialplan's safety checks read them."""

from __future__ import annotations

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan_pattern as dp


@pytest.mark.parametrize("pattern, number, expected", [
    ("_1XXX", "1001", True),
    ("_1XXX", "100", False),
    ("_1XXX", "10011", False),
    ("_1XXX", "2001", False),
    ("_8XXXXXXXXXX", "84951234567", True),
    ("_8XXXXXXXXXX", "8495123456", False),
    ("_NXXXXXX", "2345678", True),
    ("_NXXXXXX", "1345678", False),
    ("_ZX", "10", True),
    ("_ZX", "01", False),
    ("_[78]XXX", "7123", True),
    ("_[78]XXX", "9123", False),
    ("_[1-3]X", "25", True),
    ("_[1-3]X", "45", False),
    ("_9.", "9", False),
    ("_9.", "91", True),
    ("_9!", "9", True),
    ("_X.", "1002&PJSIP/trunk/0044", True),   # why the dialled number is filtered before any Dial
    ("_+7X.", "+7495", True),
    ("_*97", "*97", True),
    ("_8-495-XXX", "8495123", True),           # '-' is ignored outside []
    ("1001", "1001", True),
    ("1001", "10010", False),
    ("_x.", "12", True),                       # X, Z, N are case-insensitive
])
def test_matches(pattern, number, expected):
    assert dp.matches(pattern, number) is expected


@pytest.mark.parametrize("pattern, catch_all", [
    ("_.", True), ("_!", True), ("_X.", True), ("_X!", True), ("_XX.", True), ("_ZX.", True), ("_N.", True),
    ("_[0-9].", True), ("_[+0-9]!", True),
    ("_8.", False), ("_810.", False), ("_+.", False),
    ("_1XXX", False), ("_XXXXXXXXXXX", False), ("_[78]XXXXXXXXXX", False), ("100", False),
])
def test_catch_all(pattern, catch_all):
    assert dp.is_catch_all(pattern) is catch_all


@pytest.mark.parametrize("pattern, prefix, expected", [
    ("_8XXXXXXXXXX", "810", True),     # the Russian trunk route can start an international call
    ("_8[2-9]XXXXXXXXX", "810", False),
    ("_1XXX", "00", False),
    ("_0X.", "00", True),
    ("_X.", "+", False),
    ("_[+0-9].", "+", True),
    ("_+7X.", "+", True),
    ("_7XXXXXXXXXX", "8809", False),
    ("_8.", "8809", True),
    ("_00", "000", False),
])
def test_can_start_with(pattern, prefix, expected):
    assert dp.can_start_with(pattern, prefix) is expected


@pytest.mark.parametrize("pattern, message", [
    ("", "is empty"),
    ("_", "'_' alone matches nothing"),
    ("_1X.X", "'.' must be the last character"),
    ("_1[23", "'[' without ']'"),
    ("_1[]", "empty []"),
    ("_[9-1]X", "range 9-1 is not an ascending digit range"),
    ("_1Y", "'Y' is not a pattern character"),
    ("_1${EXTEN}", "'$' is not a pattern character"),
    ("100a", "an exact number uses digits"),
    ("1001&PJSIP/x", "an exact number uses digits"),
    ("_[a]X", "'a' in [] is not a digit"),
])
def test_bad_patterns(pattern, message):
    with pytest.raises(dp.PatternError) as exc:
        dp.parse(pattern)
    assert message in str(exc.value)


def test_literal_prefix_and_lengths():
    assert dp.literal_prefix("_8495XXXXXXX") == "8495"
    assert dp.literal_prefix("_[78]XXX") == ""
    assert dp.min_length("_8XXXXXXXXXX") == 11
    assert dp.min_length("_9.") == 2 and dp.min_length("_9!") == 1
    assert dp.strip_ok("_8XXXXXXXXXX", 1) and not dp.strip_ok("_8X", 2)
