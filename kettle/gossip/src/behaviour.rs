//! The composed libp2p behaviour of a kettle: gossipsub, request-response, identify, ping.

use libp2p::{
    gossipsub, identify, identity::Keypair, ping, request_response, swarm::NetworkBehaviour,
};

use crate::{
    codec::{KettleCodec, PROTOCOL},
    config::GossipConfig,
};

/// Identify protocol version string.
const IDENTIFY_PROTOCOL: &str = "/kettle/id/1";

/// Every protocol a kettle speaks. mDNS is deliberately absent: peers come from bootstrap
/// addresses only, so a kettle never auto-joins whatever is on the local network.
#[derive(NetworkBehaviour)]
pub(crate) struct KettleBehaviour {
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) p2p: request_response::Behaviour<KettleCodec>,
    pub(crate) identify: identify::Behaviour,
    pub(crate) ping: ping::Behaviour,
}

impl KettleBehaviour {
    /// Builds the behaviour for the given libp2p key and config.
    pub(crate) fn new(key: &Keypair, config: &GossipConfig) -> Result<Self, String> {
        let gs_config = gossipsub::ConfigBuilder::default()
            .max_transmit_size(config.transport_cap())
            .validation_mode(gossipsub::ValidationMode::Strict)
            // The service validates every message before gossipsub forwards it.
            .validate_messages()
            .build()
            .map_err(|e| e.to_string())?;
        let gossipsub = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(key.clone()),
            gs_config,
        )?;
        let p2p = request_response::Behaviour::with_codec(
            KettleCodec {
                max_frame: config.transport_cap(),
            },
            [(PROTOCOL, request_response::ProtocolSupport::Full)],
            request_response::Config::default().with_request_timeout(config.request_timeout),
        );
        let identify = identify::Behaviour::new(identify::Config::new(
            IDENTIFY_PROTOCOL.to_string(),
            key.public(),
        ));
        Ok(Self {
            gossipsub,
            p2p,
            identify,
            ping: ping::Behaviour::default(),
        })
    }
}
