//! The MEVM: SUAVE precompiles and their wiring into revm.
//!
//! Today this crate holds the precompile address table; execution arrives with the MEVM work.

pub mod addresses;
