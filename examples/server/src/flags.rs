//! Feature flags: each tier turns a set of features on; a superadmin may override
//! any flag for one tenant. A route behind a flag that is off answers `403` with
//! code `feature_disabled`.

use std::collections::BTreeMap;

/// A feature that can be turned on or off per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flag {
    /// `POST /v1/import`: historical backfills.
    Import,
    /// `GET /api/v1/profiles/lookup`.
    ProfileApi,
}

/// Every flag.
pub const FLAGS: [Flag; 2] = [Flag::Import, Flag::ProfileApi];

/// The tiers.
pub const TIERS: [&str; 3] = ["free", "pro", "enterprise"];

impl Flag {
    /// Its name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Import => "import",
            Self::ProfileApi => "profile_api",
        }
    }

    /// A flag from its name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        FLAGS.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether `tier` turns the flag on.
    #[must_use]
    pub fn default_for(self, tier: &str) -> bool {
        match self {
            Self::Import => matches!(tier, "pro" | "enterprise"),
            Self::ProfileApi => true,
        }
    }
}

/// Every flag's value for a tenant of `tier` with `overrides`.
#[must_use]
pub fn effective(tier: &str, overrides: &[(String, bool)]) -> BTreeMap<&'static str, bool> {
    FLAGS
        .into_iter()
        .map(|f| {
            let on = overrides
                .iter()
                .find(|(name, _)| name == f.as_str())
                .map_or_else(|| f.default_for(tier), |(_, v)| *v);
            (f.as_str(), on)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_defaults_and_overrides() {
        assert!(!effective("free", &[])["import"]);
        assert!(effective("pro", &[])["import"]);
        assert!(effective("free", &[("import".into(), true)])["import"]);
        assert!(!effective("enterprise", &[("profile_api".into(), false)])["profile_api"]);
        for f in FLAGS {
            assert_eq!(Flag::parse(f.as_str()), Some(f));
        }
        assert_eq!(Flag::parse("nope"), None);
    }
}
