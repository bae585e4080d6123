//! The HTTP ceiling: an axum server that answers every request with one
//! fixed SCIM ListResponse holding one user, shaped and sized like the
//! ingress's answer to `GET /Users?filter=userName eq "…"`. Whatever the
//! ingress does beyond this (auth, the filter, Postgres, rendering) is
//! what its GET rate pays for.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;

/// A rendered `userName eq` answer, as the ingress writes it.
pub const BODY: &str = concat!(
    r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"itemsPerPage":1,"startIndex":1,"Resources":[{"#,
    r#""schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"#,
    r#""id":"018cc251-f400-7001-8000-000000000001","name":{"formatted":"Ms. Barbara J Jensen III","givenName":"Barbara","familyName":"Jensen","middleName":"Jane","honorificPrefix":"Ms.","honorificSuffix":"III"},"#,
    r#""title":"Tour Guide","active":true,"emails":[{"type":"work","value":"bench-1@example.com","primary":true},{"type":"home","value":"bench-1@home.example.org"}],"#,
    r#""locale":"en-US","nickName":"Babs","timezone":"America/Los_Angeles","userName":"bench-1","userType":"Employee","#,
    r#""addresses":[{"type":"work","region":"CA","country":"USA","primary":true,"locality":"Hollywood","formatted":"100 Universal City Plaza\nHollywood, CA 91608 USA","postalCode":"91608","streetAddress":"100 Universal City Plaza"}],"#,
    r#""externalId":"ext-1","profileUrl":"https://login.example.com/bench-1","displayName":"Barbara Jensen","#,
    r#""phoneNumbers":[{"type":"work","value":"555-555-0001"},{"type":"mobile","value":"555-444-0001"}],"preferredLanguage":"en-US","#,
    r#""urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"},"division":"Theme Park","costCenter":"4130","department":"Tour Operations","organization":"Universal Studios","employeeNumber":"1"},"#,
    r#""meta":{"resourceType":"User","created":"2024-01-01T00:00:00.001000Z","lastModified":"2024-01-01T00:00:00.001000Z","version":"W/\"1\"","location":"http://127.0.0.1:18080/scim/v2/bench/Users/018cc251-f400-7001-8000-000000000001"}}]}"#,
);

/// The router: any path, any method, the fixed answer.
pub fn app() -> Router {
    Router::new().fallback(user)
}

async fn user() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/scim+json")], BODY)
}

/// Serves [`app`] on `addr` until the process is stopped.
pub async fn serve(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    axum::serve(listener, app()).await.context("serving")
}

#[cfg(test)]
mod tests {
    use super::BODY;

    #[test]
    fn the_fixed_answer_is_a_list_of_one_user() {
        let v: serde_json::Value = serde_json::from_str(BODY).unwrap();
        assert_eq!(v["totalResults"], 1);
        assert_eq!(v["Resources"][0]["userName"], "bench-1");
        assert_eq!(v["Resources"][0]["meta"]["resourceType"], "User");
    }
}
