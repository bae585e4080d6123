//! Whether a service can use the bus right now (for `/readyz`): a service
//! whose NATS connection is down, or whose streams are gone, cannot do its
//! work and must not be sent any.

use async_nats::connection::State;
use async_nats::jetstream;

use crate::connect::BusError;

/// `Ok` when the connection is up and every stream of `streams` answers
/// (its JetStream info can be read); otherwise what is missing.
pub async fn ready(
    client: &async_nats::Client,
    js: &jetstream::Context,
    streams: &[String],
) -> Result<(), BusError> {
    let state = client.connection_state();
    if state != State::Connected {
        return Err(BusError::NotConnected(state.to_string()));
    }
    let infos = streams.iter().map(|name| async move {
        js.get_stream(name)
            .await
            .map(drop)
            .map_err(|e| BusError::JetStream(format!("stream {name}: {e}")))
    });
    futures_util::future::try_join_all(infos).await.map(drop)
}
