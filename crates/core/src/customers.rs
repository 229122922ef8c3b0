//! The customer table as a data structure: every customer record of the
//! compacted customers topic, in memory (like a Kafka Streams GlobalKTable:
//! every instance holds all of it). Filling it from the topic is the edge's
//! job (`triage::service::customers`); [`apply`] is what one record does.
//!
//! Memory: the table stores a compact record per customer (40 bytes: the
//! indices of its interned string values, `arr`, `vip`) in sharded hash
//! maps (`SHARDS` read-write locks, so that the loader's writes do not
//! stall ticket lookups). Every distinct value (account type, plan, zone,
//! contract policy …) is stored once; a lookup rebuilds the engine's
//! [`Profile`] from shared values (reference-count increments, no string
//! copies) and holds no lock while the ticket is triaged. Measured with
//! `customer_table_memory` below: see the README.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::model::{Customer, Profile};

const SHARDS: usize = 16;
const NONE: u32 = u32::MAX;
const VIP: u8 = 1;
const HAS_ARR: u8 = 2;

/// One customer as stored: value indices into [`Values`].
#[derive(Debug, Clone, Copy)]
struct Stored {
    arr: f64,
    /// account_type, support_plan, persona, lifecycle, sla_policy,
    /// timezone, language; `NONE` when absent.
    fields: [u32; 7],
    flags: u8,
}

/// Every distinct string value, once; with the parsed zone for values used
/// as a customer's timezone.
#[derive(Default)]
struct Values {
    strs: Vec<Arc<str>>,
    zones: Vec<Option<jiff::tz::TimeZone>>,
    /// Whether the value was looked up as a zone yet.
    zone_checked: Vec<bool>,
    index: HashMap<Arc<str>, u32, Fx>,
}

fn zone_of_cached_none(v: &Values, k: u32) -> bool {
    v.zone_checked[k as usize]
}

/// The maps' hasher: foldhash's fast hash (several times faster than SipHash
/// on short ids, and its output is well mixed in every bit: a multiply-rotate
/// hash without a final mix once put 1,000,000 generated ids into 33 distinct
/// bucket values). Fixed seed, so shards are the same in every process. Keys
/// come from the service's own customers topic, not from the open internet,
/// so HashDoS resistance is not needed here.
type Fx = foldhash::fast::FixedState;
type Shard = HashMap<Box<str>, Stored, Fx>;

/// The in-memory customer table.
pub struct CustomerTable {
    shards: Vec<RwLock<Shard>>,
    values: RwLock<Values>,
    len: AtomicUsize,
    caught_up: AtomicBool,
}

impl Default for CustomerTable {
    fn default() -> Self {
        CustomerTable {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::default()))
                .collect(),
            values: RwLock::new(Values::default()),
            len: AtomicUsize::new(0),
            caught_up: AtomicBool::new(false),
        }
    }
}

fn shard_of(id: &str) -> usize {
    let h = Fx::default().hash_one(id);
    // Bits 50–53: the shard must not fix the bits the shard's own map uses
    // for buckets (the low bits) and tags (the top seven).
    ((h >> 50) as usize) % SHARDS
}

/// The result of a lookup: the customer's profile, if known. Holds no lock.
pub struct ProfileRef {
    profile: Option<Profile>,
}

impl ProfileRef {
    pub fn get(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }
}

impl CustomerTable {
    /// Looks a customer up.
    pub fn lookup(&self, customer_id: &str) -> ProfileRef {
        let stored = self.shards[shard_of(customer_id)]
            .read()
            .expect("not poisoned")
            .get(customer_id)
            .copied();
        ProfileRef {
            profile: stored.map(|s| self.profile_of(&s)),
        }
    }

    /// A copy of one customer's profile.
    pub fn get(&self, customer_id: &str) -> Option<Profile> {
        self.lookup(customer_id).profile
    }

    fn profile_of(&self, s: &Stored) -> Profile {
        let v = self.values.read().expect("not poisoned");
        let f = |i: usize| (s.fields[i] != NONE).then(|| v.strs[s.fields[i] as usize].clone());
        Profile {
            account_type: f(0),
            support_plan: f(1),
            vip: s.flags & VIP != 0,
            persona: f(2),
            lifecycle: f(3),
            arr: (s.flags & HAS_ARR != 0).then_some(s.arr),
            sla_policy: f(4),
            timezone: f(5),
            tz: (s.fields[5] != NONE)
                .then(|| v.zones[s.fields[5] as usize].clone())
                .flatten(),
            language: f(6),
        }
    }

    /// Value indices for up to seven values (the record's string fields),
    /// `NONE` for absent ones. `zone_of(value)` parses the zone of the
    /// timezone field (index 5) the first time that value is seen. One read
    /// lock when every value is known, one write lock otherwise.
    fn intern_all(
        &self,
        values: [Option<&str>; 7],
        zone_of: impl Fn(&str) -> Option<jiff::tz::TimeZone>,
    ) -> [u32; 7] {
        let mut out = [NONE; 7];
        let mut missing = false;
        {
            let v = self.values.read().expect("not poisoned");
            for (i, val) in values.iter().enumerate() {
                if let Some(val) = val {
                    match v.index.get(*val) {
                        Some(&k)
                            if i != 5
                                || v.zones[k as usize].is_some()
                                || zone_of_cached_none(&v, k) =>
                        {
                            out[i] = k
                        }
                        _ => missing = true,
                    }
                }
            }
        }
        if !missing {
            return out;
        }
        let mut v = self.values.write().expect("not poisoned");
        for (i, val) in values.iter().enumerate() {
            let Some(val) = val else { continue };
            let k = match v.index.get(*val) {
                Some(&k) => k,
                None => {
                    let k = v.strs.len() as u32;
                    let a: Arc<str> = Arc::from(*val);
                    v.strs.push(a.clone());
                    v.zones.push(None);
                    v.zone_checked.push(false);
                    v.index.insert(a, k);
                    k
                }
            };
            if i == 5 && !v.zone_checked[k as usize] {
                v.zones[k as usize] = zone_of(val);
                v.zone_checked[k as usize] = true;
            }
            out[i] = k;
        }
        out
    }

    fn store(&self, customer_id: &str, stored: Stored) {
        let mut s = self.shards[shard_of(customer_id)]
            .write()
            .expect("not poisoned");
        if s.insert(customer_id.into(), stored).is_none() {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Inserts or replaces a customer from a prepared profile.
    pub fn upsert(&self, customer_id: &str, p: Profile) {
        let tz = p.tz.clone();
        let fields = self.intern_all(
            [
                p.account_type.as_deref(),
                p.support_plan.as_deref(),
                p.persona.as_deref(),
                p.lifecycle.as_deref(),
                p.sla_policy.as_deref(),
                p.timezone.as_deref(),
                p.language.as_deref(),
            ],
            |_| tz.clone(),
        );
        self.store(
            customer_id,
            Stored {
                arr: p.arr.unwrap_or(0.0),
                fields,
                flags: if p.vip { VIP } else { 0 } | if p.arr.is_some() { HAS_ARR } else { 0 },
            },
        );
    }

    /// Inserts or replaces a customer from its record (no intermediate
    /// profile: values already in the table are not allocated again).
    pub fn upsert_customer(&self, customer_id: &str, c: &Customer) {
        let fields = self.intern_all(
            [
                c.account_type.as_deref(),
                c.support_plan.as_deref(),
                c.persona.as_deref(),
                c.lifecycle.as_deref(),
                c.sla_policy.as_deref(),
                c.timezone.as_deref(),
                c.language.as_deref(),
            ],
            |z| jiff::tz::TimeZone::get(z).ok(),
        );
        self.store(
            customer_id,
            Stored {
                arr: c.arr.unwrap_or(0.0),
                fields,
                flags: if c.vip { VIP } else { 0 } | if c.arr.is_some() { HAS_ARR } else { 0 },
            },
        );
    }

    pub fn remove(&self, customer_id: &str) -> bool {
        let mut s = self.shards[shard_of(customer_id)]
            .write()
            .expect("not poisoned");
        let removed = s.remove(customer_id).is_some();
        if removed {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the table reached the topic's end offsets measured at start.
    pub fn caught_up(&self) -> bool {
        self.caught_up.load(Ordering::Acquire)
    }

    pub fn set_caught_up(&self) {
        self.caught_up.store(true, Ordering::Release);
    }
}

/// Shares repeated strings between profiles built outside the table (the
/// table interns its own values).
#[derive(Default)]
pub struct Interner {
    set: HashSet<Arc<str>>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.set.insert(a.clone());
        a
    }

    /// A profile with its strings shared.
    pub fn profile(&mut self, c: &Customer) -> Profile {
        Profile::new(c, &mut |s| self.intern(s))
    }
}

/// What applying one record did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    Upsert,
    Delete,
    /// Could not decode: the detail (never the record's content).
    Error(String),
}

/// Applies one record of the customers topic: an empty value deletes the
/// key's customer; otherwise the value is a customer record. The key is the
/// customer id (the value's `customer_id` when the record has no key).
///
/// `decode` reads a customer record in the configured format; its error is a
/// sentence without the record's content.
pub fn apply(
    table: &CustomerTable,
    decode: impl FnOnce(&[u8]) -> Result<Customer, String>,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Applied {
    let key = match key.map(std::str::from_utf8) {
        Some(Ok(k)) if !k.is_empty() => Some(k),
        Some(Err(_)) => return Applied::Error("key is not UTF-8".into()),
        _ => None,
    };
    match value {
        None | Some([]) => match key {
            Some(k) => {
                table.remove(k);
                Applied::Delete
            }
            None => Applied::Error("tombstone without a key".into()),
        },
        Some(v) => match decode(v) {
            Ok(c) => {
                let id = key.unwrap_or(&c.customer_id);
                if id.is_empty() {
                    return Applied::Error("no key and an empty customer_id".into());
                }
                table.upsert_customer(id, &c);
                Applied::Upsert
            }
            Err(e) => Applied::Error(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upserts_tombstones_and_bad_records() {
        let t = CustomerTable::default();
        let codec = crate::codec::decode_customer_json;
        let rec = br#"{"customer_id":"C-1","account_type":"enterprise","support_plan":"premium","vip":true}"#;
        assert_eq!(apply(&t, codec, Some(b"C-1"), Some(rec)), Applied::Upsert);
        assert_eq!(t.len(), 1);
        assert_eq!(
            t.get("C-1").unwrap().account_type.as_deref(),
            Some("enterprise")
        );
        // A bad record keeps the old value.
        let r = apply(&t, codec, Some(b"C-1"), Some(b"{not json"));
        assert!(matches!(r, Applied::Error(_)), "{r:?}");
        assert!(t.get("C-1").unwrap().vip);
        assert_eq!(apply(&t, codec, Some(b"C-1"), None), Applied::Delete);
        assert_eq!(t.len(), 0);
        assert_eq!(apply(&t, codec, Some(b"C-1"), Some(b"")), Applied::Delete);
        assert!(matches!(apply(&t, codec, None, None), Applied::Error(_)));
        // No key: the value's id.
        assert_eq!(apply(&t, codec, None, Some(rec)), Applied::Upsert);
        assert!(t.get("C-1").is_some());
    }

    fn rss_bytes() -> usize {
        let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
        let pages: usize = s
            .split_whitespace()
            .nth(1)
            .and_then(|x| x.parse().ok())
            .unwrap_or(0);
        pages * 4096
    }

    /// Memory per customer for the README: `cargo test --release -p triage-core
    /// customer_table_memory -- --ignored --nocapture`. Loads 1M generated
    /// customers (a field mix of three segments) through the same path
    /// as the customers topic and reports the RSS growth per customer.
    #[test]
    #[ignore]
    fn customer_table_memory() {
        let n: u64 = std::env::var("CUSTOMERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        let t = CustomerTable::default();
        let codec = crate::codec::decode_customer_json;
        let mut buf = Vec::new();
        let before = rss_bytes();
        for k in 0..n {
            buf.clear();
            buf.extend_from_slice(
                format!(
                    r#"{{"customer_id":"C-{k:06}","account_type":"{}","support_plan":"{}","vip":{},"arr":{},"timezone":"Europe/Berlin","language":"en"}}"#,
                    ["startup", "smb", "enterprise"][k as usize % 3],
                    ["basic", "standard", "premium"][k as usize % 3],
                    k % 17 == 0,
                    1000 * (k % 500)
                )
                .as_bytes(),
            );
            let id = format!("C-{k:06}");
            assert_eq!(
                apply(&t, codec, Some(id.as_bytes()), Some(&buf)),
                Applied::Upsert
            );
        }
        let after = rss_bytes();
        assert_eq!(t.len(), n as usize);
        println!(
            "{n} customers: RSS +{:.1} MiB, {:.0} bytes per customer",
            (after - before) as f64 / 1048576.0,
            (after - before) as f64 / n as f64
        );
    }

    #[test]
    fn interning_shares_values() {
        let t = CustomerTable::default();
        let codec = crate::codec::decode_customer_json;
        for id in ["A", "B"] {
            let rec = format!(r#"{{"customer_id":"{id}","account_type":"enterprise"}}"#);
            apply(&t, codec, Some(id.as_bytes()), Some(rec.as_bytes()));
        }
        let a = t.get("A").unwrap().account_type.unwrap();
        let b = t.get("B").unwrap().account_type.unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }
}

#[cfg(test)]
mod hash_spread {
    use super::*;

    /// The bucket bits and the tag of 1,000,000 generated ids are spread:
    /// a weak hash once put them into 33 buckets.
    #[test]
    fn generated_ids_spread_over_buckets_and_shards() {
        let n = 200_000u64;
        let mut buckets = HashSet::new();
        let mut shards = [0u32; SHARDS];
        for i in 0..n {
            let id = format!("C-{:06}", i + 1);
            buckets.insert(Fx::default().hash_one(id.as_str()) & 0x3ffff);
            shards[shard_of(&id)] += 1;
        }
        // 200,000 keys into 262,144 buckets: ~146,000 distinct when random.
        assert!(
            buckets.len() > 130_000,
            "{} distinct buckets",
            buckets.len()
        );
        let expect = (n / SHARDS as u64) as u32;
        for c in shards {
            assert!(c > expect * 9 / 10 && c < expect * 11 / 10, "{shards:?}");
        }
    }
}
