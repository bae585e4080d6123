//! A varied, deterministic data set: Users with every kind of attribute
//! (mixed case, some non-ASCII, missing and empty values) and Groups with
//! members.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{ACME_GROUP, ACME_USER, New, ODD_USER};

/// splitmix64: small, seedable, good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn uuid(&mut self) -> Uuid {
        Uuid::from_u64_pair(self.next(), self.next())
    }
}

// Strings whose lower case Rust and Postgres (C.UTF-8) agree on; the
// tests check that before relying on it.
const GIVEN: &[&str] = &[
    "Barbara",
    "barbara",
    "BJÖRN",
    "Jürgen",
    "Élodie",
    "Ωmega",
    "Жанна",
    "Ann_e",
    "Zoë",
    "li",
    "O'Neil",
    "Percy%",
    "Back\\Slash",
    "ÆRIN",
    "Ça",
];
const FAMILY: &[&str] = &[
    "Jensen",
    "JENSEN",
    "jensen",
    "Smith",
    "Østergaard",
    "Nguyễn",
    "Straße",
    "O'Brien",
    "de la Cruz",
    "ΔΗΜΗΤΡΊΟΥ",
];
const DOMAINS: &[&str] = &["Example.com", "example.org", "ACME.io", "exämple.de"];
const TITLES: &[&str] = &[
    "Manager",
    "manager",
    "Tour Guide",
    "",
    "Engineer%_x",
    "Ingénieur",
];
const USER_TYPES: &[&str] = &["Employee", "employee", "Contractor", "Intern"];
const DEPARTMENTS: &[&str] = &[
    "Tour Operations",
    "tour operations",
    "R&D",
    "Sales",
    "Ventes",
];
const TAGS: &[&str] = &["Alpha", "alpha", "BETA", "gamma ray", "δέλτα", "50%"];
const CODES: &[&str] = &["AbC", "abc", "ABC", "x_y%", "Ünï"];
const LEVELS: &[i64] = &[-3, 0, 1, 2, 5, 10, 42, 9_007_199_254_740_993, i64::MIN];
const SCORES: &[f64] = &[0.5, 1.0, 2.0, -0.25, 3.25, 1e-7, 12345.678, 0.1];
const GROUP_WORDS: &[&str] = &[
    "Admins",
    "admins",
    "Tour Guides",
    "Développeurs",
    "OPS",
    "Σύνολο",
];

/// A random instant between 2000 and 2030, with a whole-second,
/// millisecond or microsecond fraction; some coincide.
pub fn instant(rng: &mut Rng) -> DateTime<Utc> {
    let base = DateTime::from_timestamp(946_684_800, 0).unwrap();
    let secs = if rng.chance(15) {
        rng.below(4) as i64 * 86_400
    } else {
        (rng.next() % 946_080_000) as i64
    };
    let micros = match rng.below(3) {
        0 => 0,
        1 => rng.below(1000) as i64 * 1000,
        _ => rng.below(1_000_000) as i64,
    };
    base + TimeDelta::seconds(secs) + TimeDelta::microseconds(micros)
}

/// An instant written as a client might: `Z`, `z`, an offset, or none.
pub fn written(rng: &mut Rng, t: DateTime<Utc>) -> String {
    let offset = *rng.pick(&[0, 120, -330, 60 * 14, -60 * 15 - 59]);
    let fixed = chrono::FixedOffset::east_opt(offset * 60).unwrap();
    let local = t.with_timezone(&fixed);
    match rng.below(5) {
        0 => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        1 => t
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
            .to_lowercase(),
        2 => local.to_rfc3339_opts(SecondsFormat::AutoSi, false),
        3 => t.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
        _ => local.to_rfc3339_opts(SecondsFormat::Micros, false),
    }
}

fn email(rng: &mut Rng, given: &str, i: usize) -> Value {
    let mut e = Map::new();
    let local = match rng.below(3) {
        0 => given.to_string(),
        1 => given.to_lowercase(),
        _ => format!("{given}.{i}"),
    };
    e.insert(
        "value".into(),
        json!(format!("{local}@{}", rng.pick(DOMAINS))),
    );
    if rng.chance(80) {
        e.insert("type".into(), json!(rng.pick(&["work", "home", "other"])));
    }
    if rng.chance(15) {
        e.insert("display".into(), json!(given));
    }
    Value::Object(e)
}

fn user(rng: &mut Rng, i: usize, others: &[Uuid]) -> Value {
    let given = *rng.pick(GIVEN);
    let family = *rng.pick(FAMILY);
    let mut u = Map::new();
    u.insert("userName".into(), json!(format!("{given}.{family}{i}")));
    if rng.chance(85) {
        let mut name = Map::new();
        if rng.chance(90) {
            name.insert("givenName".into(), json!(given));
        }
        name.insert("familyName".into(), json!(family));
        u.insert("name".into(), Value::Object(name));
    }
    match rng.below(10) {
        0 => {}
        1 => {
            u.insert("displayName".into(), json!(""));
        }
        _ => {
            u.insert("displayName".into(), json!(format!("{given} {family}")));
        }
    }
    for (key, pool, percent) in [("title", TITLES, 60), ("userType", USER_TYPES, 70)] {
        if rng.chance(percent) {
            u.insert(key.into(), json!(rng.pick(pool)));
        }
    }
    if rng.chance(25) {
        u.insert("nickName".into(), json!(given.to_uppercase()));
    }
    if rng.chance(80) {
        u.insert("active".into(), json!(rng.chance(70)));
    }
    if rng.chance(60) {
        u.insert(
            "externalId".into(),
            json!(format!(
                "{}-{:03}",
                rng.pick(&["EXT", "ext", "Ext"]),
                i % 50
            )),
        );
    }
    let n = rng.below(4);
    let primary = (rng.chance(60) && n > 0).then(|| rng.below(n));
    let emails: Vec<Value> = (0..n)
        .map(|k| {
            let mut e = email(rng, given, i);
            if primary == Some(k) {
                e["primary"] = json!(true);
            } else if rng.chance(20) {
                e["primary"] = json!(false);
            }
            e
        })
        .collect();
    if !emails.is_empty() {
        u.insert("emails".into(), Value::Array(emails));
    }
    if rng.chance(40) {
        let phones: Vec<Value> = (0..=rng.below(2))
            .map(|k| json!({"value": format!("+1 555 {:04}", i * 3 + k), "type": rng.pick(&["work", "mobile"])}))
            .collect();
        u.insert("phoneNumbers".into(), Value::Array(phones));
    }
    if rng.chance(70) {
        let mut ent = Map::new();
        if rng.chance(80) {
            ent.insert("department".into(), json!(rng.pick(DEPARTMENTS)));
        }
        if rng.chance(50) {
            ent.insert("employeeNumber".into(), json!(format!("{}", 700 + i % 40)));
        }
        if rng.chance(40) && !others.is_empty() {
            ent.insert(
                "manager".into(),
                json!({"value": rng.pick(others).to_string()}),
            );
        }
        u.insert(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into(),
            Value::Object(ent),
        );
    }
    if rng.chance(75) {
        u.insert(ACME_USER.into(), acme_user(rng));
    }
    if rng.chance(20) {
        u.insert(ODD_USER.into(), json!({"nick": rng.pick(GIVEN)}));
    }
    Value::Object(u)
}

fn acme_user(rng: &mut Rng) -> Value {
    let mut a = Map::new();
    if rng.chance(80) {
        a.insert("level".into(), json!(rng.pick(LEVELS)));
    }
    if rng.chance(80) {
        let s = *rng.pick(SCORES);
        a.insert(
            "score".into(),
            if rng.chance(30) {
                json!(s as i64)
            } else {
                json!(s)
            },
        );
    }
    if rng.chance(80) {
        let t = instant(rng);
        a.insert("hired".into(), json!(written(rng, t)));
    }
    if rng.chance(70) {
        a.insert("remote".into(), json!(rng.chance(50)));
    }
    if rng.chance(60) {
        let tags: Vec<&str> = (0..=rng.below(3)).map(|_| *rng.pick(TAGS)).collect();
        a.insert("tags".into(), json!(tags));
    }
    if rng.chance(60) {
        a.insert("code".into(), json!(rng.pick(CODES)));
    }
    if rng.chance(30) {
        a.insert(
            "blob".into(),
            json!(rng.pick(&["QUJD", "YWJj", "QUJDRA=="])),
        );
    }
    if rng.chance(50) {
        let n = 1 + rng.below(3);
        let primary = rng.below(n + 1);
        let badges: Vec<Value> = (0..n)
            .map(|k| {
                let t = instant(rng);
                let mut b = json!({"code": rng.pick(CODES), "level": rng.pick(LEVELS)});
                if rng.chance(70) {
                    b["since"] = json!(written(rng, t));
                }
                if k == primary {
                    b["primary"] = json!(true);
                }
                b
            })
            .collect();
        a.insert("badges".into(), Value::Array(badges));
    }
    Value::Object(a)
}

fn meta(rng: &mut Rng, id: Uuid, resource_type: &'static str, body: Value) -> New {
    let created = instant(rng);
    let last_modified = if rng.chance(20) {
        created
    } else {
        created + TimeDelta::microseconds((rng.next() % 10_000_000_000) as i64)
    };
    New {
        id,
        resource_type,
        body,
        version: 1 + rng.below(30) as i64,
        created,
        last_modified,
        members: vec![],
    }
}

/// `users` Users and `groups` Groups; group members are users and other
/// groups of the same set.
pub fn dataset(seed: u64, users: usize, groups: usize) -> Vec<New> {
    let mut rng = Rng::new(seed);
    let user_ids: Vec<Uuid> = (0..users).map(|_| rng.uuid()).collect();
    let group_ids: Vec<Uuid> = (0..groups).map(|_| rng.uuid()).collect();
    let mut out = Vec::new();
    for (i, id) in user_ids.iter().enumerate() {
        let body = user(&mut rng, i, &user_ids);
        out.push(meta(&mut rng, *id, "User", body));
    }
    for (i, id) in group_ids.iter().enumerate() {
        let mut g = Map::new();
        g.insert(
            "displayName".into(),
            json!(format!("{} {i}", rng.pick(GROUP_WORDS))),
        );
        if rng.chance(50) {
            g.insert("externalId".into(), json!(format!("G-{}", i % 7)));
        }
        if rng.chance(60) {
            let mut a = Map::new();
            if rng.chance(80) {
                a.insert("rank".into(), json!(rng.pick(SCORES)));
            }
            let t = instant(&mut rng);
            a.insert("since".into(), json!(written(&mut rng, t)));
            g.insert(ACME_GROUP.into(), Value::Object(a));
        }
        let mut new = meta(&mut rng, *id, "Group", Value::Object(g));
        let n = rng.below(9);
        let mut members: Vec<(Uuid, String)> = (0..n)
            .map(|_| match rng.chance(85) {
                true => (*rng.pick(&user_ids), "User".to_string()),
                false => (*rng.pick(&group_ids), "Group".to_string()),
            })
            .collect();
        members.sort();
        members.dedup_by_key(|m| m.0);
        new.members = members;
        out.push(new);
    }
    out
}
