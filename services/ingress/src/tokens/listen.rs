//! The listener on `scimbus_tokens`: each announcement drops one token's
//! cache entries; while it is not connected the cache is not used at all.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use super::Tokens;

/// How long to wait before connecting again.
const RETRY: Duration = Duration::from_secs(1);

pub(super) async fn run(tokens: Arc<Tokens>, stop: CancellationToken) {
    let mut failing = false;
    while !stop.is_cancelled() {
        match connect(&tokens).await {
            Ok(mut listener) => {
                if failing {
                    tracing::info!("listening for token changes again");
                    failing = false;
                }
                // Connected and listening: announcements from now on are
                // seen, so the cache may be used from now on.
                tokens.reset(true);
                loop {
                    tokio::select! {
                        () = stop.cancelled() => break,
                        n = listener.try_recv() => match n {
                            Ok(Some(n)) => match hash_of(n.payload()) {
                                Some(hash) => tokens.forget(&hash),
                                None => tokens.reset(true),
                            },
                            // The connection is lost: announcements may be.
                            Ok(None) | Err(_) => break,
                        },
                    }
                }
                tokens.reset(false);
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "cannot listen for token changes; looking every token up until it can");
                    failing = true;
                }
            }
        }
        tokio::select! {
            () = stop.cancelled() => {}
            () = tokio::time::sleep(RETRY) => {}
        }
    }
}

async fn connect(tokens: &Tokens) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(&tokens.pool).await?;
    listener.listen(scimbus_db::tokens::CHANGED_CHANNEL).await?;
    Ok(listener)
}

/// A SHA-256 in hex, as the trigger sends it.
fn hash_of(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_triggers_hex_is_read_back() {
        let h = scimbus_runtime::token_hash("scimbus_x");
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hash_of(&hex), Some(h));
        assert_eq!(hash_of("abc"), None);
        assert_eq!(hash_of(&"zz".repeat(32)), None);
    }
}
