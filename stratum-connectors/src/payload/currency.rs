//! Active ISO 4217 currency codes.

/// The circulating currencies of ISO 4217 (list of 2025; fund codes, precious
/// metals, testing and "no currency" codes are left out: they are never the
/// currency of a conversion).
const CODES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
    "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
    "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP",
    "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
    "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY",
    "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD",
    "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK",
    "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG",
    "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS",
    "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VED",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// Whether `code` (exactly three upper-case letters) is a circulating ISO 4217
/// currency.
///
/// ```
/// use stratum_connectors::payload::is_iso_4217;
/// assert!(is_iso_4217("EUR"));
/// assert!(!is_iso_4217("eur"));
/// assert!(!is_iso_4217("XAU"));
/// ```
#[must_use]
pub fn is_iso_4217(code: &str) -> bool {
    match code.as_bytes() {
        &[a, b, c] => slot(a, b, c).is_some_and(|i| BITMAP[i / 64] & (1 << (i % 64)) != 0),
        _ => false,
    }
}

/// The position of three upper-case letters among all 26³ codes.
const fn slot(a: u8, b: u8, c: u8) -> Option<usize> {
    if a.is_ascii_uppercase() && b.is_ascii_uppercase() && c.is_ascii_uppercase() {
        Some(((a - b'A') as usize * 26 + (b - b'A') as usize) * 26 + (c - b'A') as usize)
    } else {
        None
    }
}

/// One bit per possible code, set for [`CODES`]: a lookup is one load.
static BITMAP: [u64; 26 * 26 * 26 / 64 + 1] = {
    let mut bits = [0u64; 26 * 26 * 26 / 64 + 1];
    let mut i = 0;
    while i < CODES.len() {
        let b = CODES[i].as_bytes();
        if let Some(s) = slot(b[0], b[1], b[2]) {
            bits[s / 64] |= 1 << (s % 64);
        }
        i += 1;
    }
    bits
};

#[cfg(test)]
mod tests {
    #[test]
    fn sorted_and_unique() {
        assert!(super::CODES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_bitmap_holds_exactly_the_codes() {
        let mut found = 0;
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                for c in b'A'..=b'Z' {
                    let code = String::from_utf8(vec![a, b, c]).unwrap_or_default();
                    let listed = super::CODES.contains(&code.as_str());
                    assert_eq!(super::is_iso_4217(&code), listed, "{code}");
                    found += usize::from(listed);
                }
            }
        }
        assert_eq!(found, super::CODES.len());
        for other in ["", "US", "USDD", "usd", "U$D", "ÜSD"] {
            assert!(!super::is_iso_4217(other), "{other}");
        }
    }
}
