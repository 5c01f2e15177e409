#!/usr/bin/env python3
"""Writes testdata/normalization.json: one case per rule and decision of
PLATFORMS.md §1-§2. Expected normalised strings are written here by hand from the
specification; every expected SHA-256 (and base64 digest) is computed with Python's
hashlib, independently of the Rust implementation. Run: python3 testdata/normalization.py
"""
import base64
import hashlib
import json
import pathlib
import unicodedata

HEX = "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"  # sha256("password"), upper
HEX_LOWER = HEX.lower()
B64 = base64.b64encode(bytes.fromhex(HEX)).decode()

cases = []


def case(id, rule, platform, field, input, expected, context=None, config=None):
    c = {"id": id, "rule": rule, "platform": platform, "field": field, "input": input}
    if context:
        c["context"] = context
    if config:
        c["config"] = config
    c["expected"] = expected
    cases.append(c)


def hashed(normalized, encoding="hex"):
    digest = hashlib.sha256(normalized.encode("utf-8")).digest()
    value = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    return {"origin": "hashed", "normalized": normalized, "sha256": digest.hex(), "value": value}


def raw(normalized):
    return {"origin": "raw", "normalized": normalized, "value": normalized}


def pre(value):
    return {"origin": "pre_hashed", "value": value}


def noted(expected, note):
    """A kept value with a note: sent, but flagged."""
    return {**expected, "note": note}


def warn(code):
    return {"warning": code}


ALL = ["meta", "google", "tiktok", "snapchat"]
META_LIKE = ["meta", "tiktok", "snapchat"]

# ---- §1 pipeline -------------------------------------------------------------
decomposed = unicodedata.normalize("NFD", "José@example.com")
assert decomposed != "José@example.com"
case("d1-nfc-email", "§1 D1 NFC", "meta", "email", {"auto": decomposed}, hashed("josé@example.com"))
case("d1-nfc-name", "§1 D1 NFC", "meta", "first_name", {"raw": unicodedata.normalize("NFD", "Zoë")}, hashed("zoë"))
case("trim", "§1 trim", "meta", "email", {"raw": "  alice@example.com \t"}, hashed("alice@example.com"))
for p in ALL:
    case(f"hashed-hex-{p}", "§1 already hashed: 64 hex passes everywhere, lowercased", p, "email", {"auto": HEX}, pre(HEX_LOWER))
case("hashed-typed-hex", "§1 already hashed: typed Hashed::Hex", "tiktok", "phone", {"hashed": {"hex": HEX}}, pre(HEX_LOWER))
case("hashed-meta-appendix-meta", "§1 Meta appendix passes on Meta, hex lowercased, appendix byte-for-byte", "meta", "email", {"auto": HEX + ".Ab_1-x"}, pre(HEX_LOWER + ".Ab_1-x"))
for p in ["google", "tiktok", "snapchat"]:
    case(f"d4-appendix-{p}", "§1 D4 appendix elsewhere -> foreign_hash_format", p, "email", {"auto": HEX + ".v1"}, warn("foreign_hash_format"))
case("d4-appendix-too-long", "§1 appendix is 2-8 chars; longer is not a hash (invalid email)", "meta", "email", {"auto": HEX + ".abcdefghi"}, warn("invalid_email"))
case("hashed-base64-reencoded", "§1 typed Hashed::Base64 re-encoded as hex", "meta", "email", {"hashed": {"base64": B64}}, pre(HEX_LOWER))
case("google-base64-from-hex", "§1 Google BASE64 = digest bytes, not hex", "google", "email", {"auto": HEX}, pre(B64), config={"google_encoding": "base64"})
case("google-base64-hash", "§1 Google BASE64 encoding of our own digest", "google", "email", {"raw": "Alice@Example.com"}, hashed("alice@example.com", "base64"), config={"google_encoding": "base64"})
case("hashed-invalid", "§1 typed hash that is not 64 hex -> invalid_hash", "meta", "email", {"hashed": {"hex": HEX[:63]}}, warn("invalid_hash"))
case("hashed-base64-invalid", "§1 typed base64 that is not 32 bytes -> invalid_hash", "meta", "email", {"hashed": {"base64": "aGVsbG8="}}, warn("invalid_hash"))
case("d5-md5-is-raw", "§1 D5 32-hex values are raw input", "meta", "external_id", {"auto": "0123456789ABCDEF0123456789abcdef"}, hashed("0123456789abcdef0123456789abcdef"))
case("raw-hex-hashed-again", "§1 explicit Raw is always normalised and hashed", "meta", "external_id", {"raw": HEX}, hashed(HEX_LOWER))
case("hash-in-raw-field-ip", "§1 hash in a raw-only field", "meta", "client_ip", {"auto": HEX}, warn("hash_in_raw_field"))
case("hash-in-raw-field-typed", "§1 hash in a raw-only field (typed)", "tiktok", "city", {"hashed": {"hex": HEX}}, warn("hash_in_raw_field"))
case("d2-invalid-drops-field", "§1 D2 invalid optional field dropped with a warning", "meta", "email", {"raw": "not-an-email"}, warn("invalid_email"))
case("unsupported-field", "§2 '—': the platform does not take the field", "google", "city", {"raw": "London"}, warn("unsupported_field"))

# ---- phones ------------------------------------------------------------------
us = {"phone_region": {"default": "US"}}
gb = {"phone_region": {"default": "GB"}}
intl = {"phone_region": "require_international"}
for p, form in [("meta", "16505551212"), ("snapchat", "16505551212"), ("google", "+16505551212"), ("tiktok", "+16505551212")]:
    case(f"pitfall1-phone-{p}", "§2 phone, §6 pitfall 1 (D7)", p, "phone", {"auto": "+1 (650) 555-1212"}, hashed(form))
case("phone-00-international", "§1 `00` = international", "meta", "phone", {"raw": "0044 20 7946 0958"}, hashed("442079460958"), config=us)
case("phone-national-gb", "§1 national number with Default(GB), trunk 0 removed", "google", "phone", {"raw": "020 7946 0958"}, hashed("+442079460958"), config=gb)
case("phone-national-us", "§1 national number with Default(US)", "meta", "phone", {"raw": "(650) 555-1212"}, hashed("16505551212"), config=us)
case("phone-trunk-after-cc", "§1 trunk 0 after the country code removed", "snapchat", "phone", {"raw": "+44 (0)20 7946 0958"}, hashed("442079460958"), config=us)
case("phone-require-international", "§1 national under RequireInternational", "meta", "phone", {"raw": "020 7946 0958"}, warn("phone_no_country_code"), config=intl)
case("phone-require-international-ok", "§1 international under RequireInternational", "tiktok", "phone", {"raw": "+44 20 7946 0958"}, hashed("+442079460958"), config=intl)
case("d3-extension-dropped", "§1 D3 extensions dropped", "meta", "phone", {"raw": "+1 650-555-1212 ext. 123"}, hashed("16505551212"))
case("d3-extension-x", "§1 D3 extensions dropped (x)", "google", "phone", {"raw": "+1 650 555 1212 x99"}, hashed("+16505551212"))
case("d3-letters", "§1 D3 letters invalid", "meta", "phone", {"raw": "1-800-FLOWERS"}, warn("phone_letters"), config=us)
case("phone-too-short", "§1 not possible for its region", "meta", "phone", {"raw": "+1 555"}, warn("invalid_phone"))
case("phone-too-long", "§1 <= 15 digits", "meta", "phone", {"raw": "+44 20 7946 0958 1234 5678"}, warn("invalid_phone"))
case("phone-italy-leading-zero", "§1 E.164 keeps Italy's leading zero", "meta", "phone", {"raw": "+39 06 6982 1234"}, hashed("390669821234"))
unset = {"phone_region": None}
# Possible for its region but not valid in the numbering-plan metadata: kept (§1
# asks for possible numbers), with a `phone_not_valid` note.
case("phone-possible-not-valid-555", "§1 possible, not valid (fictional 555 area code): kept with a note", "meta", "phone", {"raw": "+1 555 555 1212"}, noted(hashed("15555551212"), "phone_not_valid"))
case("phone-possible-not-valid-placeholder", "§1 possible, not valid (area code 123): kept with a note", "google", "phone", {"raw": "+1 (123) 456-7890"}, noted(hashed("+11234567890"), "phone_not_valid"))
case("phone-possible-not-valid-gb", "§1 possible, not valid (unallocated GB range): kept with a note", "snapchat", "phone", {"raw": "+44 1012 345678"}, noted(hashed("441012345678"), "phone_not_valid"))
case("phone-local-only-length", "§1 a local-only length (no area code) is not possible", "meta", "phone", {"raw": "+1 555 1212"}, warn("invalid_phone"))
# The country code runs straight into the national digits, then a separator.
for p, text, form in [
    ("meta", "+1650-555-1212", "16505551212"),
    ("google", "+44207-946-0958", "+442079460958"),
    ("tiktok", "+612-9374-4000", "+61293744000"),
    ("snapchat", "+331-23-45-67-89", "33123456789"),
]:
    case(f"phone-code-run-in-{p}", "§1 the country code is read from the digits, not up to the first separator", p, "phone", {"raw": text}, hashed(form))
case("phone-tel-uri", "§1 RFC 3966 tel: URI", "google", "phone", {"raw": "tel:+1-650-555-1212"}, hashed("+16505551212"))
case("phone-tel-uri-ext", "§1 tel: URI parameters dropped with the extension (D3)", "meta", "phone", {"raw": "TEL:+44-20-7946-0958;ext=12"}, hashed("442079460958"))
case("phone-region-unset-email", "§1 no phone_region: emails are normalised", "meta", "email", {"raw": "Ann@Example.com"}, hashed("ann@example.com"), config=unset)
case("phone-region-unset-international", "§1 no phone_region: international numbers are read", "tiktok", "phone", {"raw": "+44 20 7946 0958"}, hashed("+442079460958"), config=unset)
case("phone-region-unset-national", "§1 no phone_region: a national number is dropped", "meta", "phone", {"raw": "020 7946 0958"}, warn("phone_region_required"), config=unset)

# ---- email -------------------------------------------------------------------
for p in ALL:
    case(f"d6-email-whitespace-{p}", "§2 email lowercase, strip all whitespace (D6)", p, "email", {"raw": " John . Smith @ Example.COM "}, hashed("john.smith@example.com"))
case("d22-gmail-google", "§2 D22 gmail: remove . and +suffix (§6 pitfall 3)", "google", "email", {"raw": "John.Smith+promo@Gmail.com"}, hashed("johnsmith@gmail.com"))
case("d22-googlemail-google", "§2 D22 googlemail.com", "google", "email", {"raw": "j.o.e+x@googlemail.com"}, hashed("joe@googlemail.com"))
case("d22-other-domain-google", "§2 D22 only gmail/googlemail", "google", "email", {"raw": "John.Smith+promo@example.com"}, hashed("john.smith+promo@example.com"))
for p in META_LIKE:
    case(f"pitfall3-gmail-{p}", "§2 email: dots and +suffix kept off Google (§6 pitfall 3)", p, "email", {"raw": "John.Smith+promo@Gmail.com"}, hashed("john.smith+promo@gmail.com"))
case("email-no-tld", "§2 email must be local@domain.tld", "meta", "email", {"raw": "john@localhost"}, warn("invalid_email"))
case("email-two-at", "§2 email must have one @", "snapchat", "email", {"raw": "a@b@example.com"}, warn("invalid_email"))
case("email-empty", "§2 empty after normalisation", "meta", "email", {"raw": "   "}, warn("empty"))

# ---- names -------------------------------------------------------------------
case("d8-spaces-removed", "§2 D8 names: spaces removed", "meta", "last_name", {"raw": "VAN DER BERG"}, hashed("vanderberg"))
case("d8-unicode-punct", "§2 D8 Unicode punctuation removed", "meta", "last_name", {"raw": "O’Connor"}, hashed("oconnor"))
case("d8-any-script", "§2 D8 any script kept", "meta", "first_name", {"raw": "Ελένη"}, hashed("ελένη"))
case("d8-hyphen", "§2 D8 hyphen is punctuation", "snapchat", "last_name", {"raw": "Smith-Jones"}, hashed("smithjones"))
for p in ["tiktok", "snapchat"]:
    case(f"d10-mary-ann-{p}", "§2 D10 as Meta (§6 pitfall 5)", p, "first_name", {"raw": "Mary Ann"}, hashed("maryann"))
case("pitfall5-mary-ann-meta", "§6 pitfall 5", "meta", "first_name", {"raw": "Mary Ann"}, hashed("maryann"))
case("d9-google-collapse", "§2 D9 collapse inner whitespace (§6 pitfall 8)", "google", "first_name", {"raw": "Anna   Maria"}, hashed("anna maria"))
case("d9-google-keep-punct", "§2 D9 keep punctuation", "google", "last_name", {"raw": "O’Connor"}, hashed("o’connor"))
case("d9-google-prefix", "§2 D9 drop prefix", "google", "first_name", {"raw": "Dr. John"}, hashed("john"))
case("d9-google-prefix-mrs", "§2 D9 drop prefix", "google", "first_name", {"raw": "MRS Jane"}, hashed("jane"))
case("d9-google-suffix", "§2 D9 drop suffix", "google", "last_name", {"raw": "Smith, Jr."}, hashed("smith"))
case("d9-google-suffix-iii", "§2 D9 drop suffix ii-iv", "google", "last_name", {"raw": "King III"}, hashed("king"))
case("d9-google-lone-title", "§2 D9 a lone word is never dropped", "google", "last_name", {"raw": "Miss"}, hashed("miss"))
case("d8-google-spaces-kept", "§2 D8/D9 Google keeps inner spaces", "google", "last_name", {"raw": "VAN DER BERG"}, hashed("van der berg"))
case("name-empty", "§2 empty after normalisation", "meta", "first_name", {"raw": "..."}, warn("empty"))

# ---- city --------------------------------------------------------------------
case("d11-city-ascii", "§2 D11 city keeps a-z0-9 only", "meta", "city", {"raw": "São Paulo"}, hashed("sopaulo"))
case("d11-city-spaces", "§2 D11 city", "meta", "city", {"raw": "New York"}, hashed("newyork"))
case("city-tiktok-raw", "§2 TikTok city raw, as Meta", "tiktok", "city", {"raw": "New York"}, raw("newyork"))
case("d12-city-snapchat", "§2 D12 Snap city as Meta", "snapchat", "city", {"raw": "St. Louis"}, hashed("stlouis"))
case("d11-city-empty", "§2 D11 empty -> dropped", "meta", "city", {"raw": "東京"}, warn("empty"))

# ---- state -------------------------------------------------------------------
case("d13-state-name", "§2 D13 state name -> code", "meta", "state", {"raw": "California"}, hashed("ca"))
case("d13-state-code", "§2 D13 state code", "meta", "state", {"raw": "NY"}, hashed("ny"))
case("d13-state-dc", "§2 D13 DC", "snapchat", "state", {"raw": "District of Columbia"}, hashed("dc"))
case("d13-state-territory", "§2 D13 territory", "meta", "state", {"raw": "Puerto Rico"}, hashed("pr"))
case("d13-state-canada", "§2 D13 Canadian province", "meta", "state", {"raw": "Québec"}, hashed("qc"))
case("d13-no-truncation", "§2 D13 never truncated", "meta", "state", {"raw": "InvalidState"}, hashed("invalidstate"))
case("d13-invalid-us-state", "§2 state not in table while country is us", "meta", "state", {"raw": "InvalidState"}, warn("invalid_state"), context={"country": "US"})
case("d13-invalid-ca-province", "§2 state not in table while country is ca", "meta", "state", {"raw": "Bavaria"}, warn("invalid_state"), context={"country": "Canada"})
case("state-other-country", "§2 state elsewhere: lowercase a-z0-9", "meta", "state", {"raw": "Bayern"}, hashed("bayern"), context={"country": "de"})
case("state-tiktok-raw", "§2 TikTok state raw, as Meta", "tiktok", "state", {"raw": "Texas"}, raw("tx"))
# Multi-word names written with punctuation or without a space are the same name;
# with or without an event country the rule is one.
for i, (text, code) in enumerate([("North-Carolina", "nc"), ("NorthCarolina", "nc"), ("Prince-Edward-Island", "pe"), ("British-Columbia", "bc"), ("north_dakota", "nd"), ("California.", "ca"), ("Cal ifornia", "ca"), ("N.Y.", "ny")]):
    case(f"d13-state-squashed-{i}", "§2 D13 a table name or code, whatever its punctuation and spacing", "meta", "state", {"raw": text}, hashed(code))
    country = "ca" if code in ("pe", "bc") else "us"
    case(f"d13-state-squashed-{i}-with-country", "§2 D13 the same spelling is accepted with the event country", "snapchat", "state", {"raw": text}, hashed(code), context={"country": country})
case("d13-state-squashed-tiktok", "§2 D13 TikTok state raw, as Meta", "tiktok", "state", {"raw": "New-Brunswick"}, raw("nb"))

# ---- zip ---------------------------------------------------------------------
case("d14-zip4-meta", "§2 D14 ZIP+4 -> 5 digits (§6 pitfall 4)", "meta", "zip", {"raw": "94105-1234"}, hashed("94105"))
case("d14-zip4-tiktok", "§2 D14 ZIP+4 -> 5 digits", "tiktok", "zip", {"raw": "94105-1234"}, hashed("94105"))
case("d12-zip4-snapchat", "§2 D12 Snap zip as Meta", "snapchat", "zip", {"raw": "94105 1234"}, hashed("94105"))
case("zip-google-raw", "§2 Google postalCode raw (§6 pitfall 4)", "google", "zip", {"raw": " 94105-1234 "}, raw("94105-1234"))
case("zip-google-us-invalid", "§2 Google US NNNNN or NNNNN-NNNN", "google", "zip", {"raw": "94105 1234"}, warn("invalid_zip"), context={"country": "us"})
case("zip-uk", "§2 zip lowercase, no spaces (§6 pitfall 4)", "meta", "zip", {"raw": "SW1A 1AA"}, hashed("sw1a1aa"))
case("zip-nine-digits", "§2 US-shaped 9 digits -> 5", "meta", "zip", {"raw": "941051234"}, hashed("94105"))
case("zip-us-invalid", "§2 country us: must be US-shaped", "meta", "zip", {"raw": "SW1A 1AA"}, warn("invalid_zip"), context={"country": "us"})
case("zip-dash-removed", "§2 zip: no -", "meta", "zip", {"raw": "1010-AB"}, hashed("1010ab"), context={"country": "nl"})

# ---- country -----------------------------------------------------------------
case("d13-country-code", "§2 country alpha-2", "meta", "country", {"raw": "US"}, hashed("us"))
case("d13-country-name", "§2 country English name", "meta", "country", {"raw": "United Kingdom"}, hashed("gb"))
case("d13-country-alias", "§2 country alias", "snapchat", "country", {"raw": "USA"}, hashed("us"))
case("d13-country-alpha3", "§2 country alpha-3 code", "meta", "country", {"raw": "deu"}, hashed("de"))
case("d13-country-invalid", "§2 country not in the table", "meta", "country", {"raw": "Narnia"}, warn("invalid_country"))
case("country-google-upper", "§2 Google regionCode upper, raw", "google", "country", {"raw": "united states"}, raw("US"))
case("country-tiktok-lower", "§2 TikTok country lower, raw", "tiktok", "country", {"raw": "Germany"}, raw("de"))

# ---- gender ------------------------------------------------------------------
for i, (v, g) in enumerate([("Female", "f"), ("woman", "f"), ("F", "f"), ("M", "m"), ("male", "m"), ("Man", "m")]):
    case(f"gender-{i}", "§2 gender", "meta" if i % 2 == 0 else "snapchat", "gender", {"raw": v}, hashed(g))
case("gender-invalid", "§2 gender outside the lists", "meta", "gender", {"raw": "x"}, warn("invalid_gender"))
case("gender-tiktok", "§2 TikTok takes no gender", "tiktok", "gender", {"raw": "f"}, warn("unsupported_field"))

# ---- birth date (today = 2026-03-01) -----------------------------------------
case("d15-iso", "§2 D15 YYYY-MM-DD", "meta", "birth_date", {"raw": "1997-02-16"}, hashed("19970216"))
case("d15-compact", "§2 D15 YYYYMMDD", "meta", "birth_date", {"raw": "19970216"}, hashed("19970216"))
case("d15-meta-example", "§2 D15 Meta doc example 2/16/1997", "meta", "birth_date", {"raw": "2/16/1997"}, hashed("19970216"))
case("d15-month-first", "§2 D15 12-31-1990", "snapchat", "birth_date", {"raw": "12-31-1990"}, hashed("19901231"))
case("d15-day-first", "§2 D15 31-12-1990", "meta", "birth_date", {"raw": "31-12-1990"}, hashed("19901231"))
case("d15-dots", "§2 D15 . separator", "meta", "birth_date", {"raw": "31.12.1990"}, hashed("19901231"))
case("d15-space", "§2 D15 space separator", "meta", "birth_date", {"raw": "31 12 1990"}, hashed("19901231"))
case("d15-equal", "§2 D15 day == month is unambiguous", "meta", "birth_date", {"raw": "05/05/1990"}, hashed("19900505"))
case("d15-ambiguous", "§2 D15 ambiguous dropped", "meta", "birth_date", {"raw": "01-02-1990"}, warn("ambiguous_birth_date"))
case("d15-typed", "§2 D15 typed date", "meta", "birth_date", {"date": "1985-07-04"}, hashed("19850704"))
case("d15-before-1900", "§2 1900..today", "meta", "birth_date", {"raw": "1899-12-31"}, warn("birth_date_out_of_range"))
case("d15-future", "§2 1900..today", "meta", "birth_date", {"raw": "2026-03-02"}, warn("birth_date_out_of_range"))
case("d15-today", "§2 1900..today inclusive", "meta", "birth_date", {"raw": "2026-03-01"}, hashed("20260301"))
case("d15-nonexistent", "§2 date must exist", "meta", "birth_date", {"raw": "1990-02-30"}, warn("invalid_birth_date"))
case("d15-format", "§2 unknown format", "meta", "birth_date", {"raw": "1990/12/31"}, warn("invalid_birth_date"))

# ---- external id -------------------------------------------------------------
for p in ["meta", "tiktok", "snapchat"]:
    case(f"d16-external-id-{p}", "§2 D16 strip whitespace, lowercase, hash", p, "external_id", {"raw": " User 123-ABC "}, hashed("user123-abc"))
case("d16-exact", "§2 D16 ExternalIdMode::Exact", "meta", "external_id", {"raw": " User 123-ABC "}, hashed("User 123-ABC"), config={"external_id_mode": "exact"})
case("d16-unhashed-meta", "§2 D16 Meta-only Unhashed", "meta", "external_id", {"raw": " User 123-ABC "}, raw("User 123-ABC"), config={"external_id_mode": "unhashed"})
case("d16-unhashed-tiktok", "§2 D16 TikTok requires hashing", "tiktok", "external_id", {"raw": " User 123-ABC "}, hashed("User 123-ABC"), config={"external_id_mode": "unhashed"})
case("external-id-google", "§2 Google events take no external id", "google", "external_id", {"raw": "u1"}, warn("unsupported_field"))

# ---- IP, UA ------------------------------------------------------------------
case("ip-v4", "§2 IP raw", "meta", "client_ip", {"raw": " 203.0.113.7 "}, raw("203.0.113.7"))
case("ip-v6-canonical", "§2 IP canonical", "tiktok", "client_ip", {"raw": "2001:0DB8:0000:0000:0000:0000:0000:0001"}, raw("2001:db8::1"))
case("ip-google", "§2 Google eventDeviceInfo IP", "google", "client_ip", {"raw": "198.51.100.1"}, raw("198.51.100.1"))
case("ip-invalid", "§2 unparsable IP", "snapchat", "client_ip", {"raw": "999.1.1.1"}, warn("invalid_ip"))
case("ua-verbatim", "§2 UA verbatim", "meta", "user_agent", {"raw": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"}, raw("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"))

# ---- click, browser, mobile ad ids ------------------------------------------
case("fbc-case-sensitive", "§2 fbc raw, case-sensitive", "meta", "click_id", {"raw": "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890"}, raw("fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890"))
case("fbc-bare-fbclid", "§2 bare fbclid needs its first-seen time (meta::fbc_from_fbclid)", "meta", "click_id", {"raw": "IwAR2xYz"}, warn("invalid_click_id"))
case("gclid", "§2 Google gclid raw", "google", "click_id", {"raw": "Cj0KCQjwAbC"}, raw("Cj0KCQjwAbC"))
case("ttclid", "§2 TikTok ttclid raw", "tiktok", "click_id", {"raw": "E.C.P.AbC"}, raw("E.C.P.AbC"))
case("sc-click-id", "§2 Snap sc_click_id raw", "snapchat", "click_id", {"raw": "7a1b2C"}, raw("7a1b2C"))
case("fbp", "§2 fbp raw", "meta", "browser_id", {"raw": "fb.1.1596403881668.1116446470"}, raw("fb.1.1596403881668.1116446470"))
case("ttp", "§2 ttp raw", "tiktok", "browser_id", {"raw": "2Ab3cD"}, raw("2Ab3cD"))
case("sc-cookie1", "§2 sc_cookie1 raw", "snapchat", "browser_id", {"raw": "Ab-12"}, raw("Ab-12"))
case("browser-id-google", "§2 Google events take no browser id", "google", "browser_id", {"raw": "x"}, warn("unsupported_field"))
case("madid-meta", "§2 Meta madid raw", "meta", "mobile_ad_id", {"raw": "6D92078A-8246-4BA4-AE5B-76104861E7DC"}, raw("6D92078A-8246-4BA4-AE5B-76104861E7DC"))
case("d17-madid-snapchat", "§2 D17 Snap madid raw, lowercase, hyphens kept", "snapchat", "mobile_ad_id", {"raw": "6D92078A-8246-4BA4-AE5B-76104861E7DC"}, raw("6d92078a-8246-4ba4-ae5b-76104861e7dc"))
case("madid-tiktok", "§2 TikTok events take no madid", "tiktok", "mobile_ad_id", {"raw": "x"}, warn("unsupported_field"))

# ---- remaining platform/field pairs (every pair has a case) -------------------
for f in ["state", "gender", "birth_date", "mobile_ad_id"]:
    case(f"unsupported-google-{f}", "§2 '—' on Google events", "google", f, {"raw": "x"}, warn("unsupported_field"))
case("unsupported-tiktok-birth-date", "§2 '—' on TikTok", "tiktok", "birth_date", {"raw": "1990-01-01"}, warn("unsupported_field"))
case("d10-tiktok-last-name", "§2 D10 TikTok names as Meta", "tiktok", "last_name", {"raw": "de la Cruz"}, hashed("delacruz"))
for p in ["google", "tiktok", "snapchat"]:
    case(f"ua-verbatim-{p}", "§2 UA verbatim", p, "user_agent", {"raw": " Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) "}, raw("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"))

ids = [c["id"] for c in cases]
assert len(ids) == len(set(ids)), "duplicate ids"

# Spot checks against the digests quoted in PLATFORMS.md §6.
assert hashlib.sha256(b"16505551212").hexdigest().startswith("e323ec62")
assert hashlib.sha256(b"+16505551212").hexdigest().startswith("1e231c66")
assert hashlib.sha256(b"anna maria").hexdigest().startswith("dfa29cee")

doc = {
    "version": 1,
    "description": "Normalisation and hashing vectors for stratum-connectors (PLATFORMS.md §1-§2). "
    "Generated by testdata/normalization.py; digests computed with Python hashlib.",
    "defaults": {"phone_region": {"default": "US"}, "external_id_mode": "lowercase", "google_encoding": "hex", "today": "2026-03-01"},
    "config_errors": [
        {"id": "phone-region-unknown", "config": {"phone_region": {"default": "XX"}}, "code": "invalid_config", "field": "phone_region.default"},
        {"id": "today-before-1900", "config": {"phone_region": "require_international", "today": "1899-01-01"}, "code": "invalid_config", "field": "today"},
    ],
    "cases": cases,
}
out = pathlib.Path(__file__).with_name("normalization.json")
out.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
print(f"{len(cases)} cases -> {out}")
