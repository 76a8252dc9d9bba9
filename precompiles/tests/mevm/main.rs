//! End-to-end tests of the MEVM: real Solidity (Suave.sol and the test SUAPPs of
//! `contracts/test/`) deployed into an in-memory revm state and run as confidential requests
//! through [`suave_precompiles::Mevm`].

mod common;

mod context;
mod crypto;
mod pipeline;
mod store;
