//! Who the server is: its address and the cluster id it gives of itself. Unlock keys
//! belong to a server, not to an address (a re-initialised server at the same address is
//! another server, and the old keys fail there).

use crate::engine::session::Session;
use crate::engine::store::ServerId;
use crate::vault::{ApiRequest, Client, Method, VaultError};

/// The server of this session, asked once (`sys/health` needs no token) and kept; known
/// by its address only when it does not say.
pub async fn server_id(session: &mut Session) -> ServerId {
    if let Some(known) = session.server() {
        return known.clone();
    }
    let id = ask(session.client()).await;
    if id.cluster_id.is_some() {
        session.set_server(id.clone());
    }
    id
}

/// Ask `client`'s server who it is.
pub async fn ask(client: &Client) -> ServerId {
    match health(client).await {
        Ok(Some(body)) => ServerId::from_status(client.addr(), &body),
        _ => ServerId::addr_only(client.addr()),
    }
}

/// `sys/health` at the root, with the status codes that mean "standby", "sealed" or "not
/// initialised" asked to be 200, so the body always comes back.
pub async fn health(client: &Client) -> Result<Option<serde_json::Value>, VaultError> {
    let req = ApiRequest::new(Method::Get, "", "sys/health")
        .query("standbyok", "true")
        .query("perfstandbyok", "true")
        .query("sealedcode", 200)
        .query("uninitcode", 200)
        .query("drsecondarycode", 200)
        .query("performancestandbycode", 200);
    client.send(req).await
}
