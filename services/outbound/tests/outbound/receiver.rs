//! A webhook receiver for the notifier's tests, as an application would
//! run one: every request's Standard Webhooks signature is checked with
//! the `standardwebhooks` crate (an implementation independent of
//! scimbus's), and every event it takes is kept, with its `webhook-id`, in
//! the order it arrived. It can be told to answer a status for a while
//! (500, 410, 400 with a body), for every event or for one resource's, to
//! answer late, and to hold every request until released. It notes when
//! two events of one resource were in its hands at once.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use standardwebhooks::Webhook;

/// What the receiver answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200: the event is taken.
    Take,
    /// This status with this body: the event is not taken.
    Refuse(u16, &'static str),
    /// 200 after a pause of up to this long (the same event always waits
    /// the same), so that events sent side by side finish out of order.
    Jitter(Duration),
}

/// An event the receiver took.
#[derive(Debug, Clone)]
pub struct Got {
    /// The `webhook-id` header.
    pub id: String,
    /// The body: a structured-mode CloudEvent.
    pub event: Value,
}

impl Got {
    /// The CloudEvent's `subject`: the resource id.
    pub fn subject(&self) -> &str {
        self.event["subject"].as_str().unwrap_or_default()
    }

    /// The CloudEvent's `type` without `dev.scimbus.` (`user.created`).
    pub fn kind(&self) -> &str {
        let t = self.event["type"].as_str().unwrap_or_default();
        t.strip_prefix("dev.scimbus.").unwrap_or(t)
    }

    /// The tenant's change sequence (the Sequence extension).
    pub fn sequence(&self) -> i64 {
        self.event["sequence"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(-1)
    }
}

#[derive(Default)]
struct Log {
    took: Vec<Got>,
    /// Requests answered with a refusal: (webhook-id, subject, status).
    refused: Vec<(String, String, u16)>,
    /// Requests whose signature or form was wrong, and why.
    bad: Vec<String>,
    /// Resources with an event in hand now, and how many.
    busy: HashMap<String, usize>,
    /// Resources that had two events in hand at once.
    overlapped: Vec<String>,
}

struct Inner {
    verifier: Webhook,
    answer: Mutex<Answer>,
    /// Answers for one resource (by CloudEvent subject) before `answer`.
    for_subject: Mutex<HashMap<String, Answer>>,
    log: Mutex<Log>,
    /// While true, requests wait before they are answered.
    hold: tokio::sync::watch::Sender<bool>,
}

/// A resource's event in hand: counted in `busy` until dropped (answered,
/// or given up by a client that went away).
struct InHand<'a> {
    inner: &'a Inner,
    subject: String,
}

impl<'a> InHand<'a> {
    fn take(inner: &'a Inner, subject: &str) -> InHand<'a> {
        let mut log = inner.log.lock().unwrap();
        let n = log.busy.entry(subject.to_string()).or_default();
        *n += 1;
        if *n > 1 {
            log.overlapped.push(subject.to_string());
        }
        InHand {
            inner,
            subject: subject.to_string(),
        }
    }
}

impl Drop for InHand<'_> {
    fn drop(&mut self) {
        if let Ok(mut log) = self.inner.log.lock()
            && let Some(n) = log.busy.get_mut(&self.subject)
        {
            *n -= 1;
        }
    }
}

/// A running receiver.
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Listens on a free port; verifies with `secret` (`whsec_…`).
    pub async fn start(secret: &str) -> Receiver {
        let inner = Arc::new(Inner {
            verifier: Webhook::new(secret).unwrap(),
            answer: Mutex::new(Answer::Take),
            for_subject: Mutex::default(),
            log: Mutex::default(),
            hold: tokio::sync::watch::Sender::new(false),
        });
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            addr,
            inner,
            server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// How every event is answered from now on.
    pub fn answer(&self, a: Answer) {
        *self.inner.answer.lock().unwrap() = a;
    }

    /// How the events of one resource are answered from now on (`None`:
    /// as every event).
    pub fn answer_for(&self, subject: &str, a: Option<Answer>) {
        let mut m = self.inner.for_subject.lock().unwrap();
        match a {
            Some(a) => m.insert(subject.to_string(), a),
            None => m.remove(subject),
        };
    }

    /// Requests wait until [`Receiver::release`].
    pub fn hold(&self) {
        self.inner.hold.send_replace(true);
    }

    pub fn release(&self) {
        self.inner.hold.send_replace(false);
    }

    /// How many events are in hand now (waiting, held or slow).
    pub fn in_hand(&self) -> usize {
        self.inner.log.lock().unwrap().busy.values().sum()
    }

    /// Fails the test if two events of one resource were ever in hand at
    /// once: a resource's next event must wait for the answer to the last.
    pub fn assert_one_at_a_time_per_resource(&self) {
        let o = self.inner.log.lock().unwrap().overlapped.clone();
        assert!(o.is_empty(), "two events at once of: {o:?}");
    }

    /// The events taken, in arrival order.
    pub fn took(&self) -> Vec<Got> {
        self.inner.log.lock().unwrap().took.clone()
    }

    /// The requests refused: (webhook-id, subject, status).
    pub fn refused(&self) -> Vec<(String, String, u16)> {
        self.inner.log.lock().unwrap().refused.clone()
    }

    /// Fails the test if any request was not signed as Standard Webhooks
    /// says, or was not a CloudEvent named by its `webhook-id`.
    pub fn assert_all_signed(&self) {
        let bad = self.inner.log.lock().unwrap().bad.clone();
        assert!(
            bad.is_empty(),
            "requests not signed or formed right: {bad:?}"
        );
    }

    /// Waits until `n` events were taken (fails after `within`); them.
    pub async fn wait_took(&self, n: usize, within: Duration) -> Vec<Got> {
        crate::support::eventually(&format!("{n} events taken"), within, || async {
            let took = self.took();
            if took.len() >= n {
                Ok(took)
            } else {
                Err(format!("{} taken: {:?}", took.len(), kinds(&took)))
            }
        })
        .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// (subject, kind) of each event, to show what arrived.
pub fn kinds(got: &[Got]) -> Vec<(String, String)> {
    got.iter()
        .map(|g| (g.subject().to_string(), g.kind().to_string()))
        .collect()
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let checked = inner
        .verifier
        .verify(&body, &headers)
        .map_err(|e| format!("{id}: signature: {e}"))
        .and_then(|()| {
            serde_json::from_slice::<Value>(&body).map_err(|e| format!("{id}: body: {e}"))
        })
        .and_then(|event| {
            let ct = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if ct != "application/cloudevents+json" {
                Err(format!("{id}: content-type {ct}"))
            } else if event["id"] != Value::String(id.clone()) {
                Err(format!("{id}: the event's id is {}", event["id"]))
            } else {
                Ok(event)
            }
        });
    let event = match checked {
        Ok(e) => e,
        Err(why) => {
            inner.log.lock().unwrap().bad.push(why);
            return (StatusCode::UNAUTHORIZED, "bad signature");
        }
    };
    let got = Got { id, event };
    let _in_hand = InHand::take(&inner, got.subject());
    let mut hold = inner.hold.subscribe();
    let _ = hold.wait_for(|held| !held).await;
    let answer = {
        let per = inner.for_subject.lock().unwrap();
        per.get(got.subject())
            .cloned()
            .unwrap_or_else(|| inner.answer.lock().unwrap().clone())
    };
    match answer {
        Answer::Take => {}
        Answer::Jitter(max) => {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            got.id.hash(&mut h);
            let ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX).max(1);
            tokio::time::sleep(Duration::from_millis(h.finish() % ms)).await;
        }
        Answer::Refuse(status, text) => {
            let subject = got.subject().to_string();
            inner
                .log
                .lock()
                .unwrap()
                .refused
                .push((got.id, subject, status));
            return (StatusCode::from_u16(status).unwrap(), text);
        }
    }
    inner.log.lock().unwrap().took.push(got);
    (StatusCode::OK, "")
}
