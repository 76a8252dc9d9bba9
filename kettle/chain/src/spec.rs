//! Chain specification: chain id, fork rules and the genesis block.
//!
//! Genesis files use geth's JSON format (parsed by `alloy-genesis`) so operators can reuse the
//! Rigil/Toliman genesis files of suave-geth. [`ChainSpec::dev`] reproduces suave-geth's
//! `--suave.dev` genesis (SUAVE-COMPAT §2).

use std::{collections::BTreeMap, path::Path};

use alloy_consensus::{constants::EMPTY_OMMER_ROOT_HASH, Header, EMPTY_ROOT_HASH};
use alloy_genesis::{ChainConfig, Genesis, GenesisAccount};
use alloy_primitives::{address, Address, Bytes, B256, U256};

use crate::ChainError;

/// suave-geth's dev chain id (also Rigil's).
pub const DEV_CHAIN_ID: u64 = kettle_primitives::SUAVE_DEV_CHAIN_ID;

/// Gas limit of the dev chain (suave-geth `--suave.dev` sets `--dev.gaslimit` to this).
pub const DEV_GAS_LIMIT: u64 = 30_000_000;

/// Initial base fee of London chains: 1 gwei.
pub const INITIAL_BASE_FEE: u64 = 1_000_000_000;

/// The chain a kettle runs: its id, fork rules and genesis.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainSpec {
    /// Genesis block and chain configuration, as in a geth genesis file.
    pub genesis: Genesis,
}

impl ChainSpec {
    /// The dev chain of suave-geth `--suave.dev`: chain id 16813125, London at genesis
    /// (base fee 1 gwei), 30M gas, `faucet` (the kettle) funded with 2^256 − 9 wei and the
    /// four well-known dev accounts with 10^10 ether each.
    pub fn dev(faucet: Address) -> Self {
        let ether = U256::from(10u64).pow(U256::from(18u64));
        let ten_billion_ether = U256::from(10_000_000_000u64) * ether;
        let mut alloc = BTreeMap::new();
        // Precompiles 0x01..0x09 and (as upstream, a typo of isConfidential) 0x…04201000
        // hold 1 wei so they are never empty accounts.
        for i in 1u8..=9 {
            alloc.insert(Address::with_last_byte(i), account(U256::from(1u64)));
        }
        alloc.insert(
            address!("0x0000000000000000000000000000000004201000"),
            account(U256::from(1u64)),
        );
        for funded in [
            address!("0x4f91862699aF93251B3e3518E4Ca627803689252"),
            address!("0x71B21E9b8029d1E384B71B2A1708005A7d4D0428"),
            address!("0xfB8CcAb59b2d3Ef32B966F26891842db2b35d787"),
            address!("0xBE69d72ca5f88aCba033a063dF5DBe43a4148De0"),
        ] {
            alloc.insert(funded, account(ten_billion_ether));
        }
        alloc.insert(faucet, account(U256::MAX - U256::from(8u64)));

        let mut extra = vec![0u8; 32];
        extra.extend_from_slice(faucet.as_slice());
        extra.extend_from_slice(&[0u8; 65]);

        let config = ChainConfig {
            chain_id: DEV_CHAIN_ID,
            homestead_block: Some(0),
            eip150_block: Some(0),
            eip155_block: Some(0),
            eip158_block: Some(0),
            byzantium_block: Some(0),
            constantinople_block: Some(0),
            petersburg_block: Some(0),
            istanbul_block: Some(0),
            muir_glacier_block: Some(0),
            berlin_block: Some(0),
            london_block: Some(0),
            ..Default::default()
        };
        Self {
            genesis: Genesis {
                config,
                nonce: 0,
                timestamp: 0,
                extra_data: Bytes::from(extra),
                gas_limit: DEV_GAS_LIMIT,
                difficulty: U256::from(1u64),
                mix_hash: B256::ZERO,
                coinbase: Address::ZERO,
                alloc,
                base_fee_per_gas: Some(u128::from(INITIAL_BASE_FEE)),
                ..Default::default()
            },
        }
    }

    /// Reads a geth-format genesis JSON file.
    pub fn from_genesis_file(path: &Path) -> Result<Self, ChainError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ChainError::InvalidGenesis(format!("{}: {e}", path.display())))?;
        Self::from_genesis_json(&text)
    }

    /// Parses a geth-format genesis JSON document.
    pub fn from_genesis_json(text: &str) -> Result<Self, ChainError> {
        let genesis: Genesis =
            serde_json::from_str(text).map_err(|e| ChainError::InvalidGenesis(e.to_string()))?;
        if genesis.config.chain_id == 0 {
            return Err(ChainError::InvalidGenesis("config.chainId is 0".into()));
        }
        if genesis.gas_limit == 0 {
            return Err(ChainError::InvalidGenesis("gasLimit is 0".into()));
        }
        Ok(Self { genesis })
    }

    /// The chain id transactions must carry.
    pub fn chain_id(&self) -> u64 {
        self.genesis.config.chain_id
    }

    /// Whether blocks carry an EIP-1559 base fee (London at genesis; Rigil and Toliman have
    /// no London block).
    pub fn is_london(&self) -> bool {
        self.genesis.config.london_block == Some(0)
    }

    /// Base fee of the genesis block, if London is active.
    pub fn genesis_base_fee(&self) -> Option<u64> {
        self.is_london().then(|| {
            self.genesis
                .base_fee_per_gas
                .and_then(|f| u64::try_from(f).ok())
                .unwrap_or(INITIAL_BASE_FEE)
        })
    }

    /// The genesis header for a given genesis state root.
    pub fn genesis_header(&self, state_root: B256) -> Header {
        let g = &self.genesis;
        Header {
            parent_hash: B256::ZERO,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: g.coinbase,
            state_root,
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            logs_bloom: Default::default(),
            difficulty: g.difficulty,
            number: 0,
            gas_limit: g.gas_limit,
            gas_used: 0,
            timestamp: g.timestamp,
            extra_data: g.extra_data.clone(),
            mix_hash: g.mix_hash,
            nonce: g.nonce.into(),
            base_fee_per_gas: self.genesis_base_fee(),
            ..Default::default()
        }
    }
}

fn account(balance: U256) -> GenesisAccount {
    GenesisAccount {
        balance,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_genesis_matches_suave_geth_dev() {
        let kettle = kettle_primitives::DEV_KETTLE_ADDRESS;
        let spec = ChainSpec::dev(kettle);
        assert_eq!(spec.chain_id(), 16_813_125);
        assert!(spec.is_london());
        assert_eq!(spec.genesis_base_fee(), Some(1_000_000_000));
        assert_eq!(spec.genesis.extra_data.len(), 32 + 20 + 65);
        assert_eq!(
            spec.genesis.alloc[&kettle].balance,
            U256::MAX - U256::from(8u64)
        );
        assert_eq!(spec.genesis.alloc.len(), 9 + 1 + 4 + 1);
    }

    #[test]
    fn genesis_json_round_trip_and_validation() {
        let spec = ChainSpec::dev(Address::repeat_byte(1));
        let json = serde_json::to_string(&spec.genesis).expect("serialize");
        assert_eq!(ChainSpec::from_genesis_json(&json).expect("parse"), spec);
        assert!(ChainSpec::from_genesis_json("{").is_err());
        assert!(
            ChainSpec::from_genesis_json(r#"{"config":{"chainId":0},"gasLimit":"0x1"}"#).is_err()
        );
        assert!(
            ChainSpec::from_genesis_json(r#"{"config":{"chainId":5},"gasLimit":"0x0"}"#).is_err()
        );
    }
}
