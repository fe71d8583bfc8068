# SPDX-License-Identifier: GPL-3.0-or-later
"""Numbering plans from libphonenumber's metadata: what a context without `international` may not
reach, per country, in every form a provider takes a number in."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan_pattern as dp
from ansible_collections.vpbx.hardened.plugins.module_utils import numbering

# Per country: numbers refused (as a provider would get them) with the kind, and ordinary
# national and mobile numbers allowed. Written by hand from each regulator's plan, not from the
# metadata the module reads, so that a wrong reading of the metadata fails here.
CASES = {
    "RU": {
        "refused": [("88091234567", "premium-rate"), ("78031234567", "premium-rate"), ("+78091234567", "premium-rate"),
                    ("8091234567", "premium-rate"), ("88081234567", "personal-number"),
                    ("810441234567", "international"), ("00441234567", "international"),
                    ("+441234567890", "international"),
                    # Kazakhstan shares +7 and is dialled 8-7xx from Russia: billed as international.
                    ("87172123456", "international"), ("77172123456", "international"),
                    ("+77012345678", "international")],
        "allowed": ["84951234567", "74951234567", "+74951234567", "4951234567", "89161234567", "79161234567",
                    "88001234567", "88121234567", "0301234567", "112"],
    },
    "GB": {
        "refused": [("09012345678", "premium-rate"), ("+449012345678", "premium-rate"),
                    ("449012345678", "premium-rate"), ("09822345678", "premium-rate"),
                    ("08712345678", "premium-rate"), ("07012345678", "personal-number"),
                    ("07640123456", "pager"), ("0033123456789", "international"), ("+33123456789", "international"),
                    # Guernsey, Jersey, the Isle of Man share +44 but are not the UK's.
                    ("01481256789", "international"), ("07781123456", "international"),
                    ("01534123456", "international"), ("01624123456", "international")],
        "allowed": ["02079460000", "+442079460000", "442079460000", "2079460000", "07400123456", "+447400123456",
                    "08001234567", "03001234567", "01611234567", "999"],
    },
    "DE": {
        "refused": [("09001123456", "premium-rate"), ("+499001123456", "premium-rate"),
                    ("499001123456", "premium-rate"), ("9001123456", "premium-rate"),
                    ("01377123456", "premium-rate"), ("01801234567", "shared-cost"),
                    ("070012345678", "personal-number"), ("0044207946000", "international"),
                    ("+33123456789", "international"), ("+43123456", "international")],
        "allowed": ["03012345678", "+493012345678", "493012345678", "08912345678", "015112345678",
                    "+4915112345678", "017012345678", "08001234567", "110", "112"],
    },
    "FR": {
        "refused": [("0891234567", "premium-rate"), ("+33891234567", "premium-rate"),
                    ("0899123456", "premium-rate"), ("0810123456", "shared-cost"), ("0820123456", "shared-cost"),
                    ("118712", "premium-short"), ("0044207946000", "international"), ("+44207946000", "international")],
        "allowed": ["0123456789", "+33123456789", "33123456789", "0612345678", "+33612345678", "0712345678",
                    "0800123456", "0970123456", "15", "112"],
    },
    "US": {
        "refused": [("19002001234", "premium-rate"), ("9002001234", "premium-rate"), ("+19002001234", "premium-rate"),
                    ("01144207946000", "international"), ("+44207946000", "international"),
                    # The Caribbean's NANP area codes (the "one ring" scam's numbers), Canada.
                    ("18762001234", "international"), ("+18092001234", "international"),
                    ("4162001234", "international")],
        "allowed": ["12125551234", "2125551234", "+12125551234", "18002001234", "3125550199", "911"],
    },
    "CA": {
        "refused": [("19002001234", "premium-rate"), ("01144207946000", "international"),
                    ("18762001234", "international"), ("+12125551234", "international")],
        "allowed": ["14162001234", "4162001234", "+16042001234", "18002001234", "911"],
    },
}


def plan(country, **kw):
    return numbering.plan(country, **kw)


@pytest.mark.parametrize("country, number, kind", [(c, n, k) for c, case in CASES.items() for n, k in case["refused"]])
def test_costly_and_international_numbers_are_refused(country, number, kind):
    entry = numbering.classify(number, plan(country)["ranges"])
    assert entry is not None and entry["kind"] == kind, (number, entry)


@pytest.mark.parametrize("country, number", [(c, n) for c, case in CASES.items() for n in case["allowed"]])
def test_ordinary_numbers_are_allowed(country, number):
    assert numbering.classify(number, plan(country)["ranges"]) is None


def test_a_domestic_region_is_no_longer_international_but_its_costly_ranges_stay():
    us = plan("US", domestic=["CA"])["ranges"]
    assert numbering.classify("14162001234", us) is None
    assert numbering.classify("18762001234", us)["note"] == "JM shares country code +1"
    assert numbering.classify("19002001234", us)["kind"] == "premium-rate"


def test_configured_prefixes_add_to_the_plan():
    ranges = plan("RU", extra_international=["8800"], extra_premium=["900"])["ranges"]
    assert numbering.classify("88001234567", ranges)["kind"] == "configured-international"
    assert numbering.classify("900123", ranges)["kind"] == "configured-premium"


def test_an_unknown_country_is_refused_with_the_fix():
    with pytest.raises(numbering.PlanError, match=r"'XX' is not a country libphonenumber knows \(ISO 3166-1"):
        plan("XX")


def test_the_plan_names_its_source():
    result = plan("DE")
    assert result["metadata"] == "libphonenumber metadata (phonenumbers %s)" % phonenumbers.__version__
    assert (result["country_code"], result["national_prefix"], result["international_prefixes"]) == ("49", "0", ["00"])
    assert plan("RU")["international_prefixes"] == ["00", "810"]
    assert plan("US")["international_prefixes"] == ["00", "011"]


# Every region libphonenumber knows: its own example fixed-line, mobile and toll-free numbers, in
# all four forms, are never refused, and its example premium-rate number always is. The two
# exceptions are shapes the metadata itself makes ambiguous.
AMBIGUOUS = {
    # Åland's numbers in E.164 without + have the length and digits of Finland's longest national ones.
    ("AX", "358"),
    # Israel's 1-800 dialled with the national prefix reads as 018, one of its international carriers.
    ("IL", "01800"),
}


def _forms(meta, nsn):
    return [(meta.national_prefix or "") + nsn, nsn, "+%d%s" % (meta.country_code, nsn),
            "%d%s" % (meta.country_code, nsn)]


@pytest.mark.parametrize("country", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_every_region_s_own_examples(country):
    meta = phonenumbers.PhoneMetadata.metadata_for_region(country)
    ranges = plan(country)["ranges"]
    for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE):
        example = phonenumbers.example_number_for_type(country, kind)
        if example is None:
            continue
        for form in _forms(meta, phonenumbers.national_significant_number(example)):
            hit = numbering.classify(form, ranges)
            assert hit is None or any(country == c and form.startswith(p) for c, p in AMBIGUOUS), (form, hit)
    premium = phonenumbers.example_number_for_type(country, PhoneNumberType.PREMIUM_RATE)
    if premium is not None:
        for form in _forms(meta, phonenumbers.national_significant_number(premium)):
            assert numbering.classify(form, ranges) is not None, form


@pytest.mark.parametrize("regex, numbers, not_numbers", [
    (r"80[39]\d{7}", ["8031234567", "8091234567"], ["8081234567", "809123456"]),
    (r"(?:8(?:4[2-5]|7[0-3])|9(?:[01]\d|8[2-49]))\d{7}", ["8421234567", "9821234567"], ["9851234567"]),
    (r"180\d{5,11}|13(?:7[1-6]\d\d|8)\d{4}", ["18012345", "18012345678901", "1381234"], ["1801234"]),
    (r"0(?:0|1[2-9])", ["00", "012", "019"], ["01", "011"]),
    (r"5(?:00|2[125-9])?[2-9]\d", ["523", "50023", "52923"], ["5202", "52"]),
])
def test_metadata_patterns_are_read_exactly(regex, numbers, not_numbers):
    patterns = [numbering.pattern("", seq) for seq in numbering.sequences(regex)]
    for number in numbers:
        assert any(dp.matches(p, number) for p in patterns), (number, patterns)
    for number in not_numbers:
        assert not any(dp.matches(p, number) for p in patterns), (number, patterns)


@pytest.mark.parametrize("regex", [r"\d+", r"[0-9]*", r"(?=1)\d", r"a"])
def test_a_pattern_the_reader_does_not_know_is_refused(regex):
    with pytest.raises(numbering.PlanError):
        numbering.sequences(regex)


@pytest.mark.parametrize("route, range_, number", [
    ("_8[34]XXXXXXXXX", "_880[39]XXXXXXX", None),
    ("_8XXXXXXXXXX", "_880[39]XXXXXXX", "88032222222"),
    ("_X.", "_00.", "002"),
    ("_0X.", "_0900[135]XXXXXX", "09001222222"),
    ("_00", "_00.", None),
    ("_00X.", "_00.", "0022"),
    ("_810!", "_810.", "8102"),
    ("_+!", "_+[0-689].", "+22"),
])
def test_reach_gives_an_example_both_patterns_match(route, range_, number):
    got = numbering.example(dp.parse(route), dp.parse(range_))
    assert got == number
    if got is not None:
        assert dp.matches(route, got) and dp.matches(range_, got)
