//! The real server over a real chain, driven by real HTTP and WebSocket clients.

mod common;
mod eth;
mod limits;
mod pubsub;
mod suave;
