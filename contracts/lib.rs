//! Compiled Solidity artifacts of `contracts/` and `suapps/`, exposed to Rust.
