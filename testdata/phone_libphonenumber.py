"""Generates phone_libphonenumber.json from libphonenumber (its Python port
`phonenumbers`):

- `vectors`: phone numbers written as people write them, each with the E.164 form
  libphonenumber reads, for every region's example fixed-line and mobile numbers;
- `readings`: generated digit strings (national, with trunk or calling-code
  prefixes, and international), valid or not, each with the calling code and
  national significant number libphonenumber reads, or null where it reads none;
- `punctuated`: example and random numbers written with every kind of punctuation
  libphonenumber allows between digits (typographic and full-width dashes,
  spaces, brackets, slashes, stars), with characters it does not allow, and with
  characters before and after the number, each with what libphonenumber reads
  (or null) and whether it reads it as valid. No text has letters, an extension
  or a leading `00`, which the phone rule reads by rules of its own;
- `variants`: every region's and non-geographic entity's example numbers of every
  number type, and the same with a digit added, removed or changed, written as
  international numbers, with what libphonenumber reads and whether it is valid.

    python3 -m pip install phonenumbers==9.0.33
    python3 testdata/phone_libphonenumber.py > testdata/phone_libphonenumber.json

Only numbers libphonenumber reads as valid are kept, so each vector states which
number a written form names.
"""

import json
import random
import sys

import phonenumbers as p

FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")


def forms(region, number):
    """(default region, text) pairs naming `number`."""
    e164 = p.format_number(number, p.PhoneNumberFormat.E164)
    intl = p.format_number(number, p.PhoneNumberFormat.INTERNATIONAL)
    national = p.format_number(number, p.PhoneNumberFormat.NATIONAL)
    meta = p.PhoneMetadata.metadata_for_region(region)
    out = [(region, e164), (region, intl), (region, national), (None, intl)]
    out.append((region, intl.translate(FULL_WIDTH)))
    prefix = meta.national_prefix
    if prefix:
        nsn = p.national_significant_number(number)
        cc = number.country_code
        # The trunk prefix written after the country code, as people do.
        out.append((None, f"+{cc} {prefix} {nsn}"))
        out.append((None, f"+{cc} ({prefix}){nsn}"))
        out.append((region, f"{prefix}{nsn}"))
    return out


READING_REGIONS = [
    "US", "GB", "DE", "FR", "IT", "AR", "MX", "BR", "IN", "AU", "JP", "RU", "NZ",
    "CA", "CN", "ZA", "KZ", "BY", "RW", "GP", "HU", "NL", "ES", "SE", "CH", "AT",
    "PL", "TR", "KR", "ID", "NG", "EG", "SA", "AE", "IL", "SG", "HK", "PH", "VN",
    "CO",
]


def national_text(n):
    """The national significant number with its leading zeros."""
    zeros = "0" * (n.number_of_leading_zeros or 1) if n.italian_leading_zero else ""
    return zeros + str(n.national_number)


def reading(text, region):
    """What libphonenumber reads from `text` with `region` as the default region:
    `read` (calling code and national significant number, or None) and `valid`."""
    try:
        n = p.parse(text, region)
    except p.NumberParseException:
        return {"read": None, "valid": False}
    return {"read": [n.country_code, national_text(n)], "valid": p.is_valid_number(n)}


def spaced(rng, digits):
    out = []
    for d in digits:
        if out and rng.random() < 0.2:
            out.append(rng.choice(" -"))
        out.append(d)
    return "".join(out)


def readings():
    rng = random.Random(20261207)
    out = []
    for region in READING_REGIONS:
        meta = p.PhoneMetadata.metadata_for_region(region)
        cc = str(meta.country_code)
        prefixes = ["", "0", cc, cc + "0", "1", "8", "88", "06"]
        if meta.national_prefix:
            prefixes.append(meta.national_prefix)
            prefixes.append(cc + meta.national_prefix)
        for _ in range(120):
            body = "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 12)))
            prefix = rng.choice(prefixes)
            if rng.random() < 0.3:
                text = "+" + cc + " " + spaced(rng, prefix + body)
            else:
                text = spaced(rng, prefix + body)
            if len(text.replace(" ", "").replace("-", "").replace("+", "")) < 3:
                continue
            out.append({"region": region, "text": text, **reading(text, region)})
    return out


TYPES = [p.PhoneNumberType.FIXED_LINE, p.PhoneNumberType.MOBILE, p.PhoneNumberType.TOLL_FREE,
         p.PhoneNumberType.PREMIUM_RATE, p.PhoneNumberType.SHARED_COST, p.PhoneNumberType.VOIP,
         p.PhoneNumberType.PERSONAL_NUMBER, p.PhoneNumberType.PAGER, p.PhoneNumberType.UAN,
         p.PhoneNumberType.VOICEMAIL]


def variants():
    """Every region's and non-geographic entity's example numbers of every type,
    and the same with a digit added, removed or changed, as international
    numbers, each with what libphonenumber reads and whether it is valid."""
    out = []
    seen = set()
    examples = []
    for region in sorted(p.SUPPORTED_REGIONS):
        for kind in TYPES:
            n = p.example_number_for_type(region, kind)
            if n is not None:
                examples.append(n)
    for code in sorted(p.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        n = p.example_number_for_non_geo_entity(code)
        if n is not None:
            examples.append(n)
    for n in examples:
        nsn = national_text(n)
        for v in (nsn, nsn + "1", nsn[:-1], "9" + nsn[1:], "0" + nsn[1:], nsn[:-1] + "00"):
            text = f"+{n.country_code} {v}"
            if text in seen:
                continue
            seen.add(text)
            out.append({"text": text, **reading(text, None)})
    return out


# Characters libphonenumber allows between the digits of a number, and some it
# does not (a tab, a comma, an underscore, a bullet, a vertical bar).
ALLOWED = [" ", "-", ".", "/", "~", "(", ")", "[", "]", "*", "\u00a0", "\u2010",
           "\u2013", "\u2015", "\u2212", "\u30fc", "\uff0d", "\uff0e", "\uff0f",
           "\u3000", "\uff08", "\uff09", "\uff3b", "\uff3d", "\u200b", "\u00ad",
           "\u2060", "\u2053", "\u223c", "\uff5e"]
REFUSED = ["\t", ",", "_", ":", "'", "\u2022", "|", "!", "\u00b7", "=", "\n"]
BEFORE = ["", "", "(", " ", "[", "*", ":", "'", "\u00a0", "-", "!", "\u2022 ", "= "]
AFTER = ["", "", ")", " ", ".", ",", "-", "!", "*", "/", "\u00a0", "?"]


def punctuated():
    rng = random.Random(20261208)
    out = []
    for region in READING_REGIONS:
        meta = p.PhoneMetadata.metadata_for_region(region)
        cc = str(meta.country_code)
        examples = [
            p.national_significant_number(n)
            for n in (p.example_number_for_type(region, k)
                      for k in (p.PhoneNumberType.FIXED_LINE, p.PhoneNumberType.MOBILE))
            if n is not None
        ]
        for _ in range(60):
            if examples and rng.random() < 0.6:
                nsn = rng.choice(examples)
            else:
                nsn = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 12)))
            mode = rng.random()
            if mode < 0.35:
                digits = cc + nsn
                lead = rng.choice(["+", "+", "++", "\uff0b"])
            elif mode < 0.5 and meta.national_prefix:
                digits = meta.national_prefix + nsn
                lead = ""
            else:
                digits = nsn
                lead = ""
            seps = REFUSED if rng.random() < 0.15 else ALLOWED
            body = []
            for d in digits:
                if body and rng.random() < 0.3:
                    body.append(rng.choice(seps))
                body.append(d)
            text = rng.choice(BEFORE) + lead + "".join(body) + rng.choice(AFTER)
            if text.lstrip("(:[*'\u00a0-!\u2022= ").startswith("00"):
                continue
            out.append({"region": region, "text": text, **reading(text, region)})
    return out


def main():
    vectors = []
    seen = set()
    for region in sorted(p.SUPPORTED_REGIONS):
        for kind in (p.PhoneNumberType.FIXED_LINE, p.PhoneNumberType.MOBILE):
            number = p.example_number_for_type(region, kind)
            if number is None:
                continue
            for default, text in forms(region, number):
                key = (default, text)
                if key in seen:
                    continue
                seen.add(key)
                try:
                    read = p.parse(text, default)
                except p.NumberParseException:
                    continue
                if not p.is_valid_number(read):
                    continue
                vectors.append(
                    {
                        "region": default,
                        "text": text,
                        "e164": p.format_number(read, p.PhoneNumberFormat.E164),
                    }
                )
    json.dump(
        {
            "version": 1,
            "description": "Phone numbers as written, with the E.164 number libphonenumber "
            f"(phonenumbers {p.__version__}) reads as valid. Generated by "
            "testdata/phone_libphonenumber.py.",
            "vectors": vectors,
            "readings": readings(),
            "punctuated": punctuated(),
            "variants": variants(),
        },
        sys.stdout,
        ensure_ascii=False,
        indent=1,
    )
    sys.stdout.write("\n")


main()
