//! The event log's unit and its duplicate filter.
//!
//! A **block** is what one request adds to the log: its accepted messages, for
//! one tenant, in one row. The row holds the messages' `messageId`s (a JSON
//! array, in order) and their bodies sealed together (`crate::crypto`), bound to
//! the tenant and to that list of ids. A block of `n` messages takes `n`
//! consecutive log positions, so the log is still read, and its lag counted, per
//! event; but the database writes one row and the server seals once per
//! request instead of once per message.
//!
//! Logs written before blocks hold one message per row, sealed alone
//! ([`FORMAT_EVENT`]); they are read as blocks of one.
//!
//! [`Dedup`] absorbs a `messageId` a tenant sent again: the writer remembers
//! the ids of the last [`Dedup::window`] (24 hours by default, Segment's
//! look-back window), at most [`Dedup::capacity`] of them, as salted 128-bit
//! SHA-256 prefixes. It rebuilds them from the log at start, and before each
//! commit, under the log's lock, it reads the ids other server processes
//! appended meanwhile, so every process filters against the whole log. This
//! replaces a unique index over every `(tenant, messageId)`, whose random
//! inserts cost more than the rest of a commit.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use stratum_cdp::message::Message;

use crate::crypto::{CryptoError, KeyRing, event_aad};

/// A row holding one message sealed alone (logs written before blocks).
pub const FORMAT_EVENT: i64 = 1;
/// A row holding a block: messages separated by `\n`, sealed together.
pub const FORMAT_BLOCK: i64 = 2;

/// One accepted message of a block: parsed, and as the JSON that is sealed.
#[derive(Debug, Clone)]
pub struct BlockEvent {
    /// The parsed message (handed to the pipeline once committed).
    pub message: Message,
    /// Its JSON (one line: serde's JSON has no raw newline).
    pub json: Vec<u8>,
}

/// The accepted messages of one request, sealed and ready to append.
#[derive(Debug, Clone)]
pub struct Block {
    /// The tenant.
    pub tenant_id: String,
    /// When the server received the request.
    pub received_at: DateTime<Utc>,
    /// The messages, in request order.
    pub events: Vec<BlockEvent>,
    /// Their `messageId`s, as a JSON array.
    pub ids: String,
    /// Their bodies, sealed together.
    pub body: String,
}

/// Why a block could not be built or opened.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// A `messageId` holds NUL, which neither database stores as text.
    #[error("messageId holds the NUL character")]
    Nul,
    /// Sealing or opening failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A message or the id list did not serialise or parse.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// The row's ids and messages disagree, or its format is unknown.
    #[error("{0}")]
    Corrupt(String),
}

/// The authenticated data binding a block's body to its tenant and its ids.
#[must_use]
pub fn block_aad(tenant_id: &str, ids: &str) -> Vec<u8> {
    const TAG: &[u8] = b"stratum.block.v2\0";
    let mut aad = Vec::with_capacity(TAG.len() + tenant_id.len() + 1 + ids.len());
    aad.extend_from_slice(TAG);
    aad.extend_from_slice(tenant_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(ids.as_bytes());
    aad
}

/// Whether a `messageId` can be stored: it is kept as text, where NUL cannot
/// be (the rest of a message is sealed as bytes).
///
/// # Errors
/// [`BlockError::Nul`].
pub fn check_message_id(message_id: &str) -> Result<(), BlockError> {
    if message_id.contains('\0') {
        return Err(BlockError::Nul);
    }
    Ok(())
}

impl Block {
    /// The block of `messages` for `tenant_id`, sealed with `keys`.
    ///
    /// # Errors
    /// [`BlockError::Nul`] for a `messageId` with NUL; serialisation or
    /// sealing failures.
    pub fn seal(
        keys: &KeyRing,
        tenant_id: &str,
        received_at: DateTime<Utc>,
        messages: Vec<Message>,
    ) -> Result<Self, BlockError> {
        let mut events = Vec::with_capacity(messages.len());
        for message in messages {
            check_message_id(&message.message_id)?;
            let json = serde_json::to_vec(&message)?;
            events.push(BlockEvent { message, json });
        }
        let (ids, body) = seal_events(keys, tenant_id, events.iter())?;
        Ok(Self {
            tenant_id: tenant_id.to_owned(),
            received_at,
            events,
            ids,
            body,
        })
    }

    /// The `messageId`s, in order.
    pub fn message_ids(&self) -> impl Iterator<Item = &str> {
        self.events.iter().map(|e| e.message.message_id.as_str())
    }

    /// The ids and sealed body of the events at `keep` (indices, ascending):
    /// the block as it is stored once duplicates are left out.
    ///
    /// # Errors
    /// Sealing failures.
    pub fn reseal(&self, keys: &KeyRing, keep: &[usize]) -> Result<(String, String), BlockError> {
        seal_events(
            keys,
            &self.tenant_id,
            keep.iter().filter_map(|&i| self.events.get(i)),
        )
    }
}

fn seal_events<'a>(
    keys: &KeyRing,
    tenant_id: &str,
    events: impl Iterator<Item = &'a BlockEvent> + Clone,
) -> Result<(String, String), BlockError> {
    let ids = serde_json::to_string(
        &events
            .clone()
            .map(|e| e.message.message_id.as_str())
            .collect::<Vec<_>>(),
    )?;
    let mut plain = Vec::with_capacity(events.clone().map(|e| e.json.len() + 1).sum());
    for (i, e) in events.enumerate() {
        if i > 0 {
            plain.push(b'\n');
        }
        plain.extend_from_slice(&e.json);
    }
    let body = keys.seal(&plain, &block_aad(tenant_id, &ids))?;
    Ok((ids, body))
}

/// The `messageId`s of a stored row, in order.
///
/// # Errors
/// When `ids` is not a JSON array of strings.
pub fn parse_ids(ids: &str) -> Result<Vec<String>, BlockError> {
    Ok(serde_json::from_str(ids)?)
}

/// The messages of a stored row, in order, each with its `messageId`.
///
/// # Errors
/// A row that does not open with `keys`, an unknown format, or ids and
/// messages that disagree.
pub fn open(
    keys: &KeyRing,
    format: i64,
    tenant_id: &str,
    ids: &str,
    body: &str,
) -> Result<Vec<Message>, BlockError> {
    let list = parse_ids(ids)?;
    let plain = match format {
        FORMAT_EVENT => {
            let [id] = list.as_slice() else {
                return Err(BlockError::Corrupt(format!(
                    "a one-message row lists {} ids",
                    list.len()
                )));
            };
            keys.open(body, &event_aad(tenant_id, id))?
        }
        FORMAT_BLOCK => keys.open(body, &block_aad(tenant_id, ids))?,
        other => return Err(BlockError::Corrupt(format!("unknown row format {other}"))),
    };
    let mut messages = Vec::with_capacity(list.len());
    if !plain.is_empty() {
        for line in plain.split(|&b| b == b'\n') {
            messages.push(serde_json::from_slice::<Message>(line)?);
        }
    }
    let agree = messages.len() == list.len()
        && messages
            .iter()
            .zip(&list)
            .all(|(m, id)| m.message_id == *id);
    if !agree {
        return Err(BlockError::Corrupt(
            "a row's messages do not match its ids".into(),
        ));
    }
    Ok(messages)
}

/// A salted 128-bit digest of a tenant and a `messageId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(u64, u64);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already uniformly distributed: half of it is the table's hash.
        state.write_u64(self.0);
    }
}

/// Passes a [`Key`]'s own bits through as its hash.
#[derive(Debug, Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The default look-back window of [`Dedup`] (Segment's: about 24 hours).
pub const DEDUP_WINDOW: TimeDelta = TimeDelta::hours(24);
/// The default most `messageId`s [`Dedup`] remembers (about 60 bytes each:
/// about 120 MB when full).
pub const DEDUP_CAPACITY: usize = 2_000_000;

/// The `messageId`s a tenant sent within a look-back window, to absorb one
/// sent again. Exact within the window (a false match needs a 128-bit
/// collision of a salted SHA-256); memory is bounded by the capacity: past it,
/// the oldest ids are forgotten first.
#[derive(Debug)]
pub struct Dedup {
    window: TimeDelta,
    capacity: usize,
    salt: [u8; 32],
    seen: HashSet<Key, BuildHasherDefault<KeyHasher>>,
    /// Keys in the order they were added, with their receive time (seconds).
    order: VecDeque<(Key, i64)>,
}

impl Dedup {
    /// An empty filter with a random salt.
    ///
    /// # Errors
    /// When the OS random source fails.
    pub fn new(window: TimeDelta, capacity: usize) -> Result<Self, CryptoError> {
        let salt = crate::secrets::random_bytes::<32>().map_err(|_| CryptoError::Random)?;
        Ok(Self {
            window,
            capacity,
            salt,
            seen: HashSet::default(),
            order: VecDeque::new(),
        })
    }

    /// The look-back window.
    #[must_use]
    pub fn window(&self) -> TimeDelta {
        self.window
    }

    /// The most ids remembered.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The ids remembered now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no id is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// When the oldest id remembered was received.
    #[must_use]
    pub fn oldest(&self) -> Option<DateTime<Utc>> {
        self.order
            .front()
            .and_then(|(_, t)| DateTime::from_timestamp(*t, 0))
    }

    /// The key of `message_id` sent by `tenant_id`.
    #[must_use]
    pub fn key(&self, tenant_id: &str, message_id: &str) -> Key {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update((tenant_id.len() as u64).to_le_bytes());
        h.update(tenant_id.as_bytes());
        h.update(message_id.as_bytes());
        let d = h.finalize();
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&d[..8]);
        b.copy_from_slice(&d[8..16]);
        Key(u64::from_le_bytes(a), u64::from_le_bytes(b))
    }

    /// Whether `key` was added within the window.
    #[must_use]
    pub fn contains(&self, key: Key) -> bool {
        self.seen.contains(&key)
    }

    /// Remembers `key`, received at `at`, and forgets what has left the window
    /// or is past the capacity.
    pub fn insert(&mut self, key: Key, at: DateTime<Utc>) {
        if self.capacity == 0 {
            return;
        }
        if self.seen.insert(key) {
            self.order.push_back((key, at.timestamp()));
        }
        while self.seen.len() > self.capacity {
            self.pop();
        }
        self.expire(at);
    }

    /// Forgets the ids received before `now` minus the window.
    pub fn expire(&mut self, now: DateTime<Utc>) {
        let cutoff = now.timestamp().saturating_sub(self.window.num_seconds());
        while self.order.front().is_some_and(|(_, t)| *t < cutoff) {
            self.pop();
        }
    }

    fn pop(&mut self) {
        if let Some((k, _)) = self.order.pop_front() {
            self.seen.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn message(id: &str) -> Message {
        let json = format!(
            r#"{{"type":"track","event":"E","userId":"u","messageId":{}}}"#,
            serde_json::to_string(id).unwrap()
        );
        stratum_cdp::message::parse_message(
            json.as_bytes(),
            crate::now(),
            &stratum_cdp::message::ParseConfig::default(),
        )
        .unwrap()
    }

    fn ring() -> KeyRing {
        KeyRing::parse(&KeyRing::generate("k1").unwrap()).unwrap()
    }

    #[test]
    fn a_block_opens_to_its_messages_and_only_with_its_tenant_and_ids() {
        let keys = ring();
        let block = Block::seal(
            &keys,
            "t1",
            crate::now(),
            vec![message("a\nb"), message("m2"), message("m3")],
        )
        .unwrap();
        assert_eq!(block.ids, r#"["a\nb","m2","m3"]"#);
        let opened = open(&keys, FORMAT_BLOCK, "t1", &block.ids, &block.body).unwrap();
        let ids: Vec<_> = opened.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ids, ["a\nb", "m2", "m3"]);
        assert!(open(&keys, FORMAT_BLOCK, "t2", &block.ids, &block.body).is_err());
        assert!(open(&keys, FORMAT_BLOCK, "t1", r#"["a\nb","m2"]"#, &block.body).is_err());
        assert!(open(&keys, 9, "t1", &block.ids, &block.body).is_err());
        let (ids, body) = block.reseal(&keys, &[0, 2]).unwrap();
        assert_eq!(ids, r#"["a\nb","m3"]"#);
        assert_eq!(
            open(&keys, FORMAT_BLOCK, "t1", &ids, &body).unwrap().len(),
            2
        );
        assert!(matches!(
            Block::seal(&keys, "t1", crate::now(), vec![message("x\u{0}")]),
            Err(BlockError::Nul)
        ));
    }

    #[test]
    fn a_row_from_before_blocks_opens_as_a_block_of_one() {
        let keys = ring();
        let m = message("m1");
        let body = keys
            .seal(&serde_json::to_vec(&m).unwrap(), &event_aad("t1", "m1"))
            .unwrap();
        let opened = open(&keys, FORMAT_EVENT, "t1", r#"["m1"]"#, &body).unwrap();
        assert_eq!(opened, vec![m]);
        assert!(open(&keys, FORMAT_EVENT, "t1", r#"["m2"]"#, &body).is_err());
    }

    #[test]
    fn the_filter_forgets_by_window_and_by_capacity_and_keys_differ_by_tenant() {
        let t0 = crate::now();
        let mut d = Dedup::new(TimeDelta::seconds(60), 3).unwrap();
        let a = d.key("t1", "m1");
        assert_ne!(a, d.key("t2", "m1"));
        assert_ne!(d.key("t1", "m1x"), d.key("t1m", "1x"));
        d.insert(a, t0);
        assert!(d.contains(a));
        assert!(!d.contains(d.key("t2", "m1")));
        for i in 2..=4 {
            d.insert(d.key("t1", &format!("m{i}")), t0);
        }
        assert_eq!(d.len(), 3);
        assert!(!d.contains(a), "past the capacity the oldest goes first");
        d.insert(d.key("t1", "late"), t0 + TimeDelta::seconds(61));
        assert_eq!(d.len(), 1, "the others left the window");
        assert!(d.contains(d.key("t1", "late")));
        let other = Dedup::new(TimeDelta::seconds(60), 3).unwrap();
        assert_ne!(other.key("t1", "m1"), a, "salted per process");
    }
}
